/**
 * The same body, with a hook run once when it has been read to the end, has failed or was cancelled. The end of
 * the stream waits for the hook: Lambda uses that to write usage before the response completes.
 */
export function onStreamEnd(body: ReadableStream<Uint8Array>, end: () => void | Promise<void>): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  let ended: void | Promise<void> | undefined;
  let finished = false;
  const finish = () => {
    if (!finished) {
      finished = true;
      ended = end();
    }
    return ended;
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done, value } = await reader.read();
        if (done) {
          await finish();
          controller.close();
        } else controller.enqueue(value);
      } catch (error) {
        await finish();
        controller.error(error);
      }
    },
    async cancel(reason) {
      // Cancel inside first: the layers below settle their counts (tokens sent so far) on cancel.
      await reader.cancel(reason).catch(() => {});
      await finish();
    },
  });
}
