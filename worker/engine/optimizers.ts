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
  // Curvature pairs s = Δx, y = Δgradient, oldest first. Float32 halves the memory traffic of the two-loop
  // recursion, which streams all of them every iteration; the sums are accumulated in float64.
  const s: Float32Array[] = [];
  const y: Float32Array[] = [];
  const rho: number[] = []; // 1 / (s·y)
  const q = new Float64Array(n);
  const direction = new Float64Array(n);
  let current: Evaluation | undefined;
  let gamma = 1; // (s·y) / (y·y) of the newest pair: the initial inverse-Hessian scale
  let slope = 0; // gradient · direction at x
  let t = 1;
  let backtracks = 0;

  const forget = () => {
    s.length = y.length = rho.length = 0;
  };

  /**
   * Two-loop recursion: direction = −H·g with H the L-BFGS inverse-Hessian estimate. Each pass over q also
   * computes the dot product the next step needs, so the history is streamed twice, not four times.
   */
  const chooseDirection = (g: Float32Array) => {
    const k = s.length;
    const alpha = new Array<number>(k);
    q.set(g);
    let d = k > 0 ? dot(s[k - 1]!, q) : 0;
    for (let i = k - 1; i >= 0; i--) {
      alpha[i] = rho[i]! * d;
      const a = alpha[i]!;
      const yi = y[i]!;
      const prev = i > 0 ? s[i - 1]! : undefined;
      let next = 0;
      for (let j = 0; j < n; j++) {
        const v = q[j]! - a * yi[j]!;
        q[j] = v;
        if (prev) next += prev[j]! * v;
      }
      d = next;
    }
    d = 0;
    const y0 = y[0];
    const scale = k > 0 ? gamma : 1;
    for (let j = 0; j < n; j++) {
      const v = q[j]! * scale;
      q[j] = v;
      if (y0) d += y0[j]! * v;
    }
    for (let i = 0; i < k; i++) {
      const c = alpha[i]! - rho[i]! * d;
      const si = s[i]!;
      const nextY = i + 1 < k ? y[i + 1]! : undefined;
      let next = 0;
      for (let j = 0; j < n; j++) {
        const v = q[j]! + c * si[j]!;
        q[j] = v;
        if (nextY) next += nextY[j]! * v;
      }
      d = next;
    }
    slope = 0;
    for (let j = 0; j < n; j++) {
      direction[j] = -q[j]!;
      slope -= g[j]! * q[j]!;
    }
    if (!(slope < 0)) {
      // Not a descent direction (numerical trouble): forget the history and go down the gradient.
      forget();
      slope = 0;
      for (let j = 0; j < n; j++) {
        direction[j] = -g[j]!;
        slope -= g[j]! * g[j]!;
      }
    }
    // Without curvature estimates the gradient's scale is arbitrary: size the step so that pixels move by
    // `learningRate` levels (of 255) on average. Afterwards L-BFGS's own scaling makes 1 the natural step.
    t = s.length === 0 ? ((options.learningRate ?? 1) * n) / sumAbs(g) : 1;
    backtracks = 0;
  };

  /** Adds the pair for the step x → trial, reusing the oldest pair's arrays once the history is full. */
  const remember = (next: Evaluation, previous: Evaluation) => {
    const sk = s.length === m ? s.shift()! : new Float32Array(n);
    const yk = y.length === m ? y.shift()! : new Float32Array(n);
    if (rho.length === m) rho.shift();
    let sy = 0;
    let yy = 0;
    for (let j = 0; j < n; j++) {
      const a = trial[j]! - x[j]!;
      const b = next.gradient[j]! - previous.gradient[j]!;
      sk[j] = a;
      yk[j] = b;
      sy += a * b;
      yy += b * b;
    }
    // Skip a pair without positive curvature: it would make H indefinite.
    if (sy > 1e-10) {
      s.push(sk);
      y.push(yk);
      rho.push(1 / sy);
      gamma = sy / yy;
    }
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
        forget();
        chooseDirection(current.gradient);
        return current;
      }
      remember(next, current);
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

function sumAbs(values: Float32Array): number {
  let sum = 0;
  for (const v of values) sum += Math.abs(v);
  return sum || 1;
}
