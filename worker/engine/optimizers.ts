import type { Evaluation, Objective } from './evaluator.ts';

export type OptimizerName = 'lbfgs' | 'adam';

export interface OptimizerOptions {
  /** Adam's step, and L-BFGS's first step, in pixel levels (0-255). */
  learningRate?: number | undefined;
  /** L-BFGS: how many past steps approximate the curvature. */
  history?: number | undefined;
}

/**
 * An optimiser advances `x` in place, one loss evaluation per `step()`, so an iteration always costs the
 * same: the driver can check cancellation, report progress and estimate time between any two steps.
 */
export interface Optimizer {
  /** The current image (the best accepted point for L-BFGS). */
  readonly x: Float32Array;
  step(): Promise<Evaluation>;
}

export function createOptimizer(
  name: OptimizerName,
  objective: Objective,
  x0: Float32Array,
  options: OptimizerOptions = {},
): Optimizer {
  return name === 'adam' ? adam(objective, x0, options) : lbfgs(objective, x0, options);
}

/**
 * L-BFGS (Nocedal & Wright, algorithm 7.4) with a backtracking Armijo line search. Each step evaluates one
 * point: the next trial point, which is accepted if it decreases the loss enough, otherwise the step is
 * halved and the next call tries again.
 */
function lbfgs(objective: Objective, x0: Float32Array, options: OptimizerOptions): Optimizer {
  const m = options.history ?? 10;
  const n = x0.length;
  const x = x0.slice();
  const trial = new Float32Array(n);
  const s: Float64Array[] = [];
  const y: Float64Array[] = [];
  const rho: number[] = [];
  let current: Evaluation | undefined;
  let direction = new Float64Array(n);
  let slope = 0; // gradient · direction at x
  let t = 1;
  let backtracks = 0;

  const chooseDirection = (g: Float32Array) => {
    // Two-loop recursion: direction = −H·g with H the L-BFGS inverse-Hessian estimate.
    const q = Float64Array.from(g);
    const alpha = new Array<number>(s.length);
    for (let i = s.length - 1; i >= 0; i--) {
      alpha[i] = rho[i]! * dot(s[i]!, q);
      axpy(-alpha[i]!, y[i]!, q);
    }
    const last = s.length - 1;
    const gamma = last >= 0 ? dot(s[last]!, y[last]!) / dot(y[last]!, y[last]!) : 1;
    for (let i = 0; i < n; i++) q[i] = q[i]! * gamma;
    for (let i = 0; i < s.length; i++) {
      const beta = rho[i]! * dot(y[i]!, q);
      axpy(alpha[i]! - beta, s[i]!, q);
    }
    for (let i = 0; i < n; i++) q[i] = -q[i]!;
    direction = q;
    slope = dot(g, direction);
    if (!(slope < 0)) {
      // Not a descent direction (numerical trouble): forget the history and go down the gradient.
      s.length = y.length = rho.length = 0;
      direction = Float64Array.from(g, (v) => -v);
      slope = dot(g, direction);
    }
    // Without curvature estimates the gradient's scale is arbitrary: size the step so that pixels move by
    // `learningRate` levels (of 255) on average. Afterwards L-BFGS's own scaling makes 1 the natural step.
    t = s.length === 0 ? ((options.learningRate ?? 1) * n) / sumAbs(g) : 1;
    backtracks = 0;
  };

  return {
    x,
    async step() {
      if (!current) {
        current = await objective.evaluate(x);
        chooseDirection(current.gradient);
        return current;
      }
      for (let i = 0; i < n; i++) trial[i] = x[i]! + t * direction[i]!;
      const next = await objective.evaluate(trial);
      const sufficient = next.loss <= current.loss + 1e-4 * t * slope;
      if (!sufficient && backtracks < 10 && Number.isFinite(current.loss)) {
        t /= 2;
        backtracks++;
        return current;
      }
      if (!sufficient) {
        // The line search gave up: keep x, forget the curvature and start again down the gradient.
        s.length = y.length = rho.length = 0;
        chooseDirection(current.gradient);
        return current;
      }
      const sk = new Float64Array(n);
      const yk = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        sk[i] = trial[i]! - x[i]!;
        yk[i] = next.gradient[i]! - current.gradient[i]!;
      }
      const sy = dot(sk, yk);
      if (sy > 1e-10) {
        s.push(sk);
        y.push(yk);
        rho.push(1 / sy);
        if (s.length > m) {
          s.shift();
          y.shift();
          rho.shift();
        }
      }
      x.set(trial);
      current = next;
      chooseDirection(next.gradient);
      return next;
    },
  };
}

/** Adam (Kingma & Ba) with the usual β₁ = 0.9, β₂ = 0.999. */
function adam(objective: Objective, x0: Float32Array, options: OptimizerOptions): Optimizer {
  const lr = options.learningRate ?? 4;
  const [beta1, beta2, epsilon] = [0.9, 0.999, 1e-8];
  const x = x0.slice();
  const m = new Float64Array(x.length);
  const v = new Float64Array(x.length);
  let k = 0;
  return {
    x,
    async step() {
      const result = await objective.evaluate(x);
      k++;
      const c1 = 1 - beta1 ** k;
      const c2 = 1 - beta2 ** k;
      const g = result.gradient;
      for (let i = 0; i < x.length; i++) {
        m[i] = beta1 * m[i]! + (1 - beta1) * g[i]!;
        v[i] = beta2 * v[i]! + (1 - beta2) * g[i]! * g[i]!;
        x[i] = x[i]! - (lr * (m[i]! / c1)) / (Math.sqrt(v[i]! / c2) + epsilon);
      }
      return result;
    },
  };
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i]! * b[i]!;
  return sum;
}

function axpy(a: number, x: Float64Array, y: Float64Array): void {
  for (let i = 0; i < y.length; i++) y[i] = y[i]! + a * x[i]!;
}

function sumAbs(values: Float32Array): number {
  let sum = 0;
  for (const v of values) sum += Math.abs(v);
  return sum || 1;
}
