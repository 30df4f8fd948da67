// The layer order of the sources (scripts/check-layers.mjs): no import runs upward, no cycle.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const script = fileURLToPath(new URL('../../../scripts/check-layers.mjs', import.meta.url));

function check(root?: string): { ok: boolean; out: string } {
  try {
    return { ok: true, out: execFileSync(process.execPath, root ? [script, root] : [script], { encoding: 'utf8', stdio: 'pipe' }) };
  } catch (e) {
    return { ok: false, out: String((e as { stderr?: unknown }).stderr) };
  }
}

describe('layers', () => {
  it("core's sources import only downward, with no cycle", () => {
    const { ok, out } = check();
    expect(out).toMatch(/^layers ok: \d+ modules/);
    expect(ok).toBe(true);
  });

  it('reports an upward import and a cycle', () => {
    const root = mkdtempSync(join(tmpdir(), 'layers-'));
    mkdirSync(join(root, 'lang'));
    writeFileSync(join(root, 'lang', 'spec.ts'), "import { x } from '../base.js';\nexport const y = x;\n");
    writeFileSync(join(root, 'base.ts'), "import { y } from './lang/spec.js';\nexport const x = y;\n");
    const { ok, out } = check(root);
    expect(ok).toBe(false);
    expect(out).toContain('lang/spec.ts (layer 0) imports base.ts (layer 2): an upward import');
    expect(out).toContain('cycle: ');
  });
});
