export async function mountKeys(root: HTMLElement): Promise<void> {
  root.textContent = 'Keys: coming.';
}
