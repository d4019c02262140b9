// .npz export: one .npy (format 1.0, little-endian float32) per tensor in a stored (uncompressed) zip made by fflate.
// `np.load("trace.npz")` reads it with nothing else installed; keys are the tensor names.
import { Zip, ZipPassThrough } from 'fflate';
import type { Float32Tensor } from '../checkpoint/safetensors.js';

/** The .npy header of a C-order array: magic, version 1.0, u16 header length, a dict padded to 64 bytes. */
export function npyHeader(descr: '<f4' | '|u1', shape: readonly number[]): Buffer {
  const dims = shape.length === 1 ? `${shape[0]},` : shape.join(', ');
  let dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${dims}), }`;
  const unpadded = 10 + dict.length + 1; // magic(6) + version(2) + length(2) + dict + '\n'
  dict += ' '.repeat((64 - (unpadded % 64)) % 64);
  dict += '\n';
  const out = Buffer.alloc(10 + dict.length);
  out.write('\x93NUMPY', 0, 'latin1');
  out[6] = 1;
  out[7] = 0;
  out.writeUInt16LE(dict.length, 8);
  out.write(dict, 10, 'latin1');
  return out;
}

/** The zip as chunks (headers + views of the tensor data) and its exact size; metadata goes in as `__metadata__` (uint8 JSON). */
export function npzParts(
  tensors: readonly Float32Tensor[],
  metadata?: Record<string, string>,
): { byteLength: number; chunks: Buffer[] } {
  const chunks: Buffer[] = [];
  let failure: Error | null = null;
  const zip = new Zip((err, data) => {
    if (err) failure = err;
    else chunks.push(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  });
  const add = (name: string, header: Buffer, data: Uint8Array) => {
    const file = new ZipPassThrough(`${name}.npy`);
    zip.add(file);
    file.push(header);
    file.push(data, true);
  };
  for (const t of tensors) {
    add(t.name, npyHeader('<f4', t.shape), new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  }
  if (metadata) {
    const json = Buffer.from(JSON.stringify(metadata), 'utf8');
    add('__metadata__', npyHeader('|u1', [json.length]), json);
  }
  zip.end();
  if (failure) throw failure;
  return { byteLength: chunks.reduce((n, c) => n + c.length, 0), chunks };
}
