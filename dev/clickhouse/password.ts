import { randomBytes } from "node:crypto";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";

/** The file in a data directory that keeps the local server's password, for its owner only. */
export const LOCAL_PASSWORD_FILE = "local-password";

/**
 * The password of the local server on `dataDir`, made on first use (random, mode 0600), so any
 * web page or process that cannot read the developer's files cannot query the server.
 */
export async function localPassword(dataDir: string): Promise<string> {
  const dir = resolve(dataDir);
  const file = join(dir, LOCAL_PASSWORD_FILE);
  await mkdir(dir, { recursive: true });
  try {
    await writeFile(file, `${randomBytes(24).toString("base64url")}\n`, { flag: "wx", mode: 0o600 });
  } catch (err) {
    if (!(err instanceof Error && "code" in err && err.code === "EEXIST")) throw err;
  }
  // A file copied or restored with looser permissions is tightened again.
  await chmod(file, 0o600);
  const password = (await readFile(file, "utf8")).trim();
  if (password === "") throw new Error(`${file} is empty: delete it and a new password is made`);
  return password;
}
