// Writing a stream of unknown length to an object store without holding it whole: bytes are cut
// into parts of one fixed size (R2 wants every part but the last the same size, S3 at least
// 5 MiB), each uploaded as it fills; a stream that ends before its first part is full is one
// plain put. Only one part is ever held. The store is an interface, so the same loop serves R2
// bindings and S3-compatible services alike.

/** The smallest part S3 and R2 take (except the last one). */
export const MIN_PART_BYTES = 5 * 1024 * 1024;

/** One multipart upload in progress. */
export interface PartUpload {
  uploadPart(partNumber: number, bytes: Uint8Array<ArrayBuffer>): Promise<{ partNumber: number; etag: string }>;
  complete(parts: Array<{ partNumber: number; etag: string }>): Promise<void>;
  abort(): Promise<void>;
}

/** Where objects are written: an R2 bucket ({@link r2Store}) or an S3-compatible bucket. */
export interface ObjectStore {
  put(key: string, bytes: Uint8Array<ArrayBuffer>, contentType: string): Promise<void>;
  startMultipart(key: string, contentType: string): Promise<PartUpload>;
}

/** An R2 bucket binding as an {@link ObjectStore}. */
export function r2Store(bucket: R2Bucket): ObjectStore {
  return {
    async put(key, bytes, contentType) {
      await bucket.put(key, bytes, { httpMetadata: { contentType } });
    },
    async startMultipart(key, contentType) {
      const upload = await bucket.createMultipartUpload(key, { httpMetadata: { contentType } });
      return {
        async uploadPart(partNumber, bytes) {
          const part = await upload.uploadPart(partNumber, bytes);
          return { partNumber: part.partNumber, etag: part.etag };
        },
        async complete(parts) {
          await upload.complete(parts);
        },
        abort: () => upload.abort(),
      };
    },
  };
}

/**
 * Writes `stream` to `key`, part by part, and answers how many bytes it wrote. A failure of the
 * stream or of a part aborts the upload, so no half object is left behind, and is rethrown.
 */
export async function uploadStream(store: ObjectStore, key: string, stream: ReadableStream<Uint8Array>, opts: { contentType: string; partBytes?: number }): Promise<{ bytes: number; parts: number }> {
  const partBytes = Math.max(opts.partBytes ?? MIN_PART_BYTES, 1);
  const reader = stream.getReader();
  let part = new Uint8Array(partBytes);
  let filled = 0;
  let total = 0;
  let upload: PartUpload | null = null;
  const parts: Array<{ partNumber: number; etag: string }> = [];
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      let offset = 0;
      while (offset < value.length) {
        const n = Math.min(partBytes - filled, value.length - offset);
        part.set(value.subarray(offset, offset + n), filled);
        filled += n;
        offset += n;
        total += n;
        if (filled === partBytes) {
          upload ??= await store.startMultipart(key, opts.contentType);
          parts.push(await upload.uploadPart(parts.length + 1, part));
          // The uploaded part may still be read by the runtime: the next one gets its own buffer.
          part = new Uint8Array(partBytes);
          filled = 0;
        }
      }
    }
    if (upload === null) {
      await store.put(key, part.subarray(0, filled), opts.contentType);
      return { bytes: total, parts: 0 };
    }
    if (filled > 0) parts.push(await upload.uploadPart(parts.length + 1, part.subarray(0, filled)));
    await upload.complete(parts);
    return { bytes: total, parts: parts.length };
  } catch (err) {
    await reader.cancel(err).catch(() => undefined);
    if (upload !== null) await upload.abort().catch(() => undefined);
    throw err;
  }
}
