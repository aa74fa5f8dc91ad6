// Secrets (bootstrap tokens) come from files, never from flags or the environment, so they stay out of
// process listings and logs.
import { readFile } from "node:fs/promises";
import { ConfigError } from "../config";

export async function readSecret(path: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    throw new ConfigError(`cannot read the secret file ${path}: ${(err as NodeJS.ErrnoException).code ?? "error"}`);
  }
  const secret = text.trim();
  if (!/^\S{16,512}$/.test(secret)) throw new ConfigError(`the secret file ${path} must hold one token of 16..512 non-space characters`);
  return secret;
}
