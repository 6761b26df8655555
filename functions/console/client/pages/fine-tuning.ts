export async function mountFineTuning(root: HTMLElement): Promise<void> {
  root.textContent = 'Fine-tuning: coming.';
}
