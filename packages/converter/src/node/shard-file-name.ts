/** Whether a `weight_map` entry names a shard the converter reads: a `.safetensors` file in the checkpoint folder itself. */
export function isShardFileName(file: unknown): file is string {
  return typeof file === 'string' && file.endsWith('.safetensors') && !file.includes('/') && !file.includes('\\');
}
