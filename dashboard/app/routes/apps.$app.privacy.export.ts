// A person's data as JSON, for a subject access request: `?kind=user|anonymous&id=…`.
import type { LoaderFunctionArgs } from "@remix-run/cloudflare";
import { requireApp } from "../auth/guard.server";
import { envOf } from "../context.server";
import { exportDownload, parseSubject } from "../db/privacy.server";

export async function loader({ request, params, context }: LoaderFunctionArgs) {
  const env = envOf(context);
  const { viewer, app } = await requireApp(request, env, params.app, "privacy:manage");
  const url = new URL(request.url);
  const subject = parseSubject(url.searchParams.get("kind") ?? "", (url.searchParams.get("id") ?? "").trim());
  if ("error" in subject) return new Response(subject.error, { status: 400, headers: { "content-type": "text/plain; charset=utf-8" } });
  return exportDownload(env, app.id, subject, viewer.email);
}
