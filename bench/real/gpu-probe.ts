// Is there a GPU execution provider onnxruntime-node can use here? `node --import tsx real/gpu-probe.ts <ep>`
// exits 0 when a one-MatMul model runs on `ep` (webgpu or cuda), else 1 with the reason: no GPU, no adapter, or
// missing libraries. The Linux x64 binary of onnxruntime-node 1.30.0 bundles the WebGPU provider (Dawn, on Vulkan:
// it needs libvulkan.so.1 and the GPU driver's Vulkan ICD); the CUDA provider is not bundled (its postinstall
// downloads it: ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install).
import { GraphBuilder, createModel, encodeModel } from '@video-llava/onnx';
import * as ort from 'onnxruntime-node';

const ep = process.argv[2] ?? 'webgpu';
const supported = ort.listSupportedBackends().map((backend) => backend.name);
if (!supported.includes(ep)) {
  process.stderr.write(
    `onnxruntime-node ${ort.env.versions.node ?? ''} has no ${ep} execution provider on ${process.platform}-${process.arch} (it has: ${supported.join(', ')}).\n`,
  );
  process.exit(1);
}
const graph = new GraphBuilder('probe');
const x = graph.input('x', 'float32', [1, 4]);
const w = graph.initializer('w', { dataType: 'float32', dims: [4, 4], data: new Float32Array(16).fill(1) });
graph.output(graph.op('MatMul', [x, w]), 'float32', [1, 4], 'y');
try {
  const session = await ort.InferenceSession.create(encodeModel(createModel(graph.build())), {
    executionProviders: [ep],
    logSeverityLevel: 3,
  });
  const outputs = await session.run({ x: new ort.Tensor('float32', Float32Array.of(1, 2, 3, 4), [1, 4]) });
  const y = outputs['y']!.data as Float32Array;
  if (y[0] !== 10) throw new Error(`the probe computed ${y[0]} instead of 10`);
  await session.release();
  process.stdout.write(`${ep}: a session runs on this machine's GPU\n`);
} catch (error) {
  const message = error instanceof Error ? error.message : String(error);
  const reason = /adapter/i.test(message)
    ? "no WebGPU adapter: no GPU, or no Vulkan driver for it (Dawn needs libvulkan.so.1 and the GPU vendor's Vulkan ICD)"
    : /shared library|cannot open shared object/i.test(message)
      ? `the ${ep} provider's libraries are not installed`
      : 'the provider failed to start';
  process.stderr.write(`${ep}: ${reason}.\nONNX Runtime said: ${message.split('\n')[0]}\n`);
  process.exit(1);
}
