// A webpack loader for the rolling-upgrade test (test/production/rolling-upgrade.test.ts, bundles
// built by bench/lib/upgrade-bundles.ts): it rewrites one workflow module's source before it is
// compiled, to produce the builds around a patched() change from the same source tree.
//
// options.patchId: the constant naming the patch (e.g. HANDOFF_SLA_ESCALATION); the module must
//   contain `if (patched(<patchId>)...) { ... }` exactly once.
// options.mode:
//   'absent'    the build before the change: that whole `if` statement removed;
//   'unpatched' the change made without patched(): the condition's `patched(<patchId>)` is `true`.
// Fails the build when the statement is not found exactly once, so the test cannot pass on a
// bundle that silently lost the change.
module.exports = function stripPatchLoader(source) {
  const { patchId, mode } = this.getOptions();
  const marker = `if (patched(${patchId})`;
  const at = source.indexOf(marker);
  if (at < 0 || source.indexOf(marker, at + 1) >= 0) {
    throw new Error(`${this.resourcePath}: expected exactly one \`${marker}\`, found ${at < 0 ? 'none' : 'several'}`);
  }
  if (mode === 'unpatched') return source.slice(0, at) + `if (true` + source.slice(at + marker.length);
  if (mode !== 'absent') throw new Error(`strip-patch-loader: unknown mode ${mode}`);
  const open = source.indexOf('{', at);
  let depth = 0;
  for (let i = open; i < source.length; i++) {
    if (source[i] === '{') depth++;
    else if (source[i] === '}' && --depth === 0) return source.slice(0, at) + source.slice(i + 1);
  }
  throw new Error(`${this.resourcePath}: unbalanced braces after \`${marker}\``);
};
