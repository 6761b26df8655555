/**
 * Whether a model's answer for a text depends on the other texts of its session.run. An int8 graph quantized
 * dynamically (onnxruntime's DynamicQuantizeLinear) scales each activation tensor by its minimum and maximum over
 * the whole run, every row and the padding included: measured on sst2-bert@3, a text's score moved by up to 4.3e-2
 * (3 of 128 SST-2-like texts changed label) between running alone and in batches of 16 or 64. Served that way,
 * another tenant's traffic could change a caller's label, so such models run each text in a session.run of its own;
 * requests still share the queue's batches. Graphs without it (the BiLSTM default: a static int8 word table) keep
 * whole batches, whose rows do not interact.
 */
const OP = new TextEncoder().encode('DynamicQuantizeLinear');

/** Looks for the op's name in the ONNX protobuf, where node op_types are stored as plain strings. */
export function scalesActivationsPerRun(onnx: Uint8Array): boolean {
  const first = OP[0]!;
  const last = onnx.length - OP.length;
  for (let i = onnx.indexOf(first); i >= 0 && i <= last; i = onnx.indexOf(first, i + 1)) {
    let j = 1;
    while (j < OP.length && onnx[i + j] === OP[j]) j++;
    if (j === OP.length) return true;
  }
  return false;
}
