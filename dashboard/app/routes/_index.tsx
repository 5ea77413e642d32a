import { redirect, type LoaderFunctionArgs } from "@remix-run/cloudflare";
import { envOf } from "../context.server";
import { hasAnyUser } from "../db/accounts.server";

export async function loader({ context }: LoaderFunctionArgs) {
  throw redirect((await hasAnyUser(envOf(context).db)) ? "/apps" : "/signup");
}
