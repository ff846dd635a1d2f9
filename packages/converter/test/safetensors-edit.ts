import { readFileSync, writeFileSync } from 'node:fs';

/** The raw JSON header of a safetensors file and its data section, for tests that corrupt checkpoints. */
export interface RawSafetensors {
  header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] } | Record<string, string>>;
  data: Uint8Array;
}

export function readRawSafetensors(path: string): RawSafetensors {
  const bytes = readFileSync(path);
  const length = Number(bytes.readBigUInt64LE(0));
  return { header: JSON.parse(bytes.subarray(8, 8 + length).toString('utf8')), data: bytes.subarray(8 + length) };
}

export function writeRawSafetensors(path: string, file: RawSafetensors): void {
  const json = Buffer.from(JSON.stringify(file.header), 'utf8');
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(json.length));
  writeFileSync(path, Buffer.concat([prefix, json, file.data]));
}

/** Rewrites one tensor's header entry (or removes it when `edit` returns undefined). */
export function editTensorHeader(
  path: string,
  name: string,
  edit: (entry: {
    dtype: string;
    shape: number[];
    data_offsets: [number, number];
  }) => { dtype: string; shape: number[]; data_offsets: [number, number] } | undefined,
): void {
  const file = readRawSafetensors(path);
  const entry = file.header[name] as { dtype: string; shape: number[]; data_offsets: [number, number] } | undefined;
  if (!entry) throw new Error(`${path} has no tensor ${name}`);
  const edited = edit(structuredClone(entry));
  if (edited === undefined) delete file.header[name];
  else file.header[name] = edited;
  writeRawSafetensors(path, file);
}
