// Where an export's files go: the platform's archive bucket for the app's data location (the
// caller's bucketFor: archiveBucket in the Worker), or an S3-compatible bucket (AWS S3, R2's S3
// API, MinIO, …) reached with the schedule's own credentials, each request signed (SigV4) by
// aws4fetch. Both are ObjectStores, so the one
// streaming upload (workers/lib/stream-upload.ts) writes to either.
import { AwsClient } from "aws4fetch";
import type { AppLocation, ExportDestination } from "../../schemas";
import { deletePrefix } from "../lib/r2";
import { r2Store, type ObjectStore, type PartUpload } from "../lib/stream-upload";
import { checkS3Endpoint } from "./endpoint";

type S3Destination = Extract<ExportDestination, { kind: "s3" }>;

/** A failed request to an S3-compatible service, with what it answered. */
export class S3Error extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = "S3Error";
  }
}

const xmlValue = (xml: string, tag: string): string | null => new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(xml)?.[1] ?? null;
const escapeXml = (s: string): string => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

async function expectOk(res: Response, what: string): Promise<string> {
  const text = await res.text();
  if (!res.ok) throw new S3Error(res.status, `${what}: HTTP ${res.status} ${xmlValue(text, "Code") ?? ""} ${(xmlValue(text, "Message") ?? text).slice(0, 200)}`.replace(/ +/g, " ").trim());
  return text;
}

/** An S3-compatible bucket as an ObjectStore; path-style URLs, which every such service takes. */
export function s3Store(dest: S3Destination, secretAccessKey: string, opts: { localMode?: boolean } = {}): ObjectStore {
  const checked = checkS3Endpoint(dest.endpoint, opts);
  if (!checked.ok) throw new S3Error(0, checked.reason);
  // Runs are retried by the export log at later cron runs; one quick retry here covers a blip.
  const aws = new AwsClient({ accessKeyId: dest.accessKeyId, secretAccessKey, service: "s3", region: dest.region, retries: 1 });
  const objectUrl = (key: string): string => `${checked.base}/${encodeURIComponent(dest.bucket)}/${key.split("/").map(encodeURIComponent).join("/")}`;
  return {
    async put(key, bytes, contentType) {
      await expectOk(await aws.fetch(objectUrl(key), { method: "PUT", body: bytes, headers: { "content-type": contentType } }), `PUT ${key}`);
    },
    async startMultipart(key, contentType): Promise<PartUpload> {
      const url = objectUrl(key);
      const created = await expectOk(await aws.fetch(`${url}?uploads`, { method: "POST", headers: { "content-type": contentType } }), `starting the upload of ${key}`);
      const uploadId = xmlValue(created, "UploadId");
      if (!uploadId) throw new S3Error(0, `starting the upload of ${key}: no UploadId in the answer`);
      const id = encodeURIComponent(uploadId);
      return {
        async uploadPart(partNumber, bytes) {
          const res = await aws.fetch(`${url}?partNumber=${partNumber}&uploadId=${id}`, { method: "PUT", body: bytes });
          await expectOk(res, `part ${partNumber} of ${key}`);
          const etag = res.headers.get("etag");
          if (!etag) throw new S3Error(0, `part ${partNumber} of ${key}: no ETag in the answer`);
          return { partNumber, etag };
        },
        async complete(parts) {
          const body = `<CompleteMultipartUpload>${parts.map((p) => `<Part><PartNumber>${p.partNumber}</PartNumber><ETag>${escapeXml(p.etag)}</ETag></Part>`).join("")}</CompleteMultipartUpload>`;
          const text = await expectOk(await aws.fetch(`${url}?uploadId=${id}`, { method: "POST", body, headers: { "content-type": "application/xml" } }), `completing ${key}`);
          // S3 may answer 200 and still report an error in the body.
          if (/<Error>/.test(text)) throw new S3Error(200, `completing ${key}: ${xmlValue(text, "Message") ?? text.slice(0, 200)}`);
        },
        async abort() {
          const res = await aws.fetch(`${url}?uploadId=${id}`, { method: "DELETE" });
          await res.body?.cancel();
        },
      };
    },
  };
}

/** The store a schedule writes to, and the key prefix inside it. */
export function destinationStore(
  bucketFor: (location: AppLocation) => R2Bucket,
  dest: ExportDestination,
  location: AppLocation,
  secretAccessKey: string | null,
  opts: { localMode?: boolean } = {},
): { store: ObjectStore; prefix: string } {
  if (dest.kind === "r2") return { store: r2Store(bucketFor(location)), prefix: "" };
  if (secretAccessKey === null) throw new S3Error(0, "the destination's secret access key is missing");
  return { store: s3Store(dest, secretAccessKey, opts), prefix: dest.prefix };
}

/** Deletes the files an app's exports wrote to the platform's bucket (a team's own bucket is theirs); how many there were. */
export const deleteAppExports = (bucket: R2Bucket, appId: string): Promise<number> => deletePrefix(bucket, `exports/${appId}/`);
