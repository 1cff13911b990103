// `npm ci && npm run build`: bundles src/ into the Python package (src/seqgql/web/static/app/:
// dashboard.js, dashboard.css, LICENSES.txt) and writes build-manifest.json: the SHA-256 of
// every source and of every output, which a Python test compares with the files, so a
// change to the sources without a rebuild (or a hand edit of the bundle) fails CI.
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "..", "src", "seqgql", "web", "static", "app");
const LICENSED = ["preact", "htm", "graphql-ws"];

const sha256 = (bytes) => createHash("sha256").update(bytes).digest("hex");

function filesUnder(folder) {
  return readdirSync(folder, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? filesUnder(join(folder, e.name)) : [join(folder, e.name)]))
    .sort();
}

mkdirSync(out, { recursive: true });
await esbuild.build({
  entryPoints: { dashboard: join(here, "src", "main.js") },
  bundle: true,
  minify: true,
  format: "esm",
  target: ["es2020", "chrome100", "firefox100", "safari15"],
  outdir: out,
  legalComments: "none",
  charset: "utf8",
  logLevel: "warning",
});

const licences = LICENSED.map((name) => {
  const folder = join(here, "node_modules", name);
  const { version, license } = JSON.parse(readFileSync(join(folder, "package.json"), "utf8"));
  const file = readdirSync(folder).find((f) => /^licen[cs]e/i.test(f));
  const text = file ? readFileSync(join(folder, file), "utf8").trim() : `${license}`;
  return `${name} ${version} (${license})\n\n${text}\n`;
});
writeFileSync(
  join(out, "LICENSES.txt"),
  `The dashboard's bundle (dashboard.js) holds these packages:\n\n${licences.join("\n---\n\n")}`,
);

const sources = ["package.json", "package-lock.json", "build.mjs", ...filesUnder(join(here, "src")).map((f) => relative(here, f))];
const manifest = {
  note: "Written by `npm run build`; tests/test_frontend_build.py checks it. Do not edit.",
  sources: Object.fromEntries(sources.map((f) => [f, sha256(readFileSync(join(here, f)))])),
  outputs: Object.fromEntries(filesUnder(out).map((f) => [relative(out, f), sha256(readFileSync(f))])),
};
writeFileSync(join(here, "build-manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`);
console.log(`built ${Object.keys(manifest.outputs).join(", ")} into ${relative(process.cwd(), out)}`);
