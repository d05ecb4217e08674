/**
 * The reference ONNX checker, `onnx.checker.check_model(model, full_check=True)` (structure, opset
 * schemas and strict shape inference), run through a Python that has the `onnx` package. Debian's
 * python3-onnx installs into the system python (/usr/bin/python3), which a pyenv or venv python3
 * earlier on PATH may shadow, so the system one is tried first. Used by the tests and CI.
 */
import { spawnSync } from 'node:child_process';

export interface OnnxChecker {
  python: string;
  version: string;
}

/** The first python with `import onnx`, or null (with why, for a clear skip message). */
export function findOnnxChecker(candidates = ['/usr/bin/python3', 'python3']): OnnxChecker | null {
  for (const python of candidates) {
    const r = spawnSync(python, ['-c', 'import onnx; print(onnx.__version__)'], { encoding: 'utf8' });
    if (r.status === 0) return { python, version: r.stdout.trim() };
  }
  return null;
}

const SCRIPT = `
import sys, onnx
bad = 0
for p in sys.argv[1:]:
    try:
        m = onnx.load(p)
        onnx.checker.check_model(m, full_check=True)
        print("ok\\t%s\\tir=%d\\topset=%d" % (p, m.ir_version, m.opset_import[0].version))
    except Exception as e:
        bad += 1
        print("FAIL\\t%s\\t%s" % (p, str(e).replace("\\n", " ")))
sys.exit(1 if bad else 0)
`;

export interface CheckResult {
  path: string;
  ok: boolean;
  detail: string;
}

/** Check each file; one python process for all of them. */
export function checkOnnxFiles(checker: OnnxChecker, paths: string[]): CheckResult[] {
  const r = spawnSync(checker.python, ['-c', SCRIPT, ...paths], { encoding: 'utf8' });
  if (r.error) throw r.error;
  const results = r.stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [status, path, ...rest] = line.split('\t');
      return { path: path!, ok: status === 'ok', detail: rest.join(' ') };
    });
  if (results.length !== paths.length) throw new Error(`ONNX checker crashed: ${r.stderr.trim().slice(-2000)}`);
  return results;
}

/**
 * For tests: the checker, whether to skip for lack of it, and a getter that fails when CI demands it
 * (BNX_REQUIRE_ONNX_CHECKER=1, set by .ci/run after installing python3-onnx) and it is missing.
 */
export function checkerForTests(): { checker: OnnxChecker | null; skip: boolean; skipNote: string; need: () => OnnxChecker } {
  const checker = findOnnxChecker();
  const required = process.env.BNX_REQUIRE_ONNX_CHECKER === '1';
  return {
    checker,
    skip: !checker && !required,
    skipNote: checker ? '' : ' — SKIPPED: python3-onnx is not installed (apt-get install -y python3-onnx)',
    need: () => {
      if (!checker) throw new Error('BNX_REQUIRE_ONNX_CHECKER=1 but no python with `import onnx` (apt-get install -y python3-onnx)');
      return checker;
    },
  };
}
