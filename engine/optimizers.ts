import type { Evaluation, Objective } from './evaluator.ts';
import { VectorMemory } from './vectors.ts';

export type OptimizerName = 'lbfgs' | 'adam';

export interface OptimizerOptions {
  /** Adam's step, and L-BFGS's first step, in pixel levels (0-255). */
  learningRate?: number | undefined;
  /** L-BFGS: how many past steps approximate the curvature. */
  history?: number | undefined;
  /** Keep every value within [min, max] (pixel levels 0-255): each point evaluated is projected into them. */
  bounds?: { min: number; max: number } | undefined;
}

/**
 * An optimiser advances `x`, one loss evaluation per `step()`, so an iteration always costs the
 * same: the driver can check cancellation, report progress and estimate time between any two steps.
 */
export interface Optimizer {
  /** The current image (the best accepted point for L-BFGS). */
  readonly x: Float32Array;
  step(): Promise<Evaluation>;
}

export async function createOptimizer(
  name: OptimizerName,
  objective: Objective,
  x0: Float32Array,
  options: OptimizerOptions = {},
): Promise<Optimizer> {
  return name === 'adam' ? adam(objective, x0, options) : await lbfgs(objective, x0, options);
}

/**
 * L-BFGS (Nocedal & Wright, algorithm 7.4) with a backtracking Armijo line search. Each step evaluates one
 * point: the next trial point, which is accepted if it decreases the loss enough, otherwise the step is
 * shortened (see `backtrack`) and the next call tries again. With `bounds`, each trial point is projected
 * into them: every image evaluated is one that can be saved as it is.
 *
 * Every vector it keeps (the point, the trial point, the last two gradients, the direction and the
 * curvature pairs) lives in one VectorMemory, so each pass over n values is a WebAssembly SIMD kernel.
 */
async function lbfgs(objective: Objective, x0: Float32Array, options: OptimizerOptions): Promise<Optimizer> {
  const n = x0.length;
  // A very large image gets a shorter history rather than no room at all.
  const m = Math.min(options.history ?? 10, Math.floor((VectorMemory.capacity(n) - PAIRS) / 2) - 1);
  if (m < 1) throw new RangeError(`a ${n}-value image is too large for L-BFGS's memory (4 GiB)`);
  const memory = await VectorMemory.create(n, PAIRS + 2 * (m + 1));
  const pairs = new CurvaturePairs(m, memory);
  // Which of the two point vectors holds x (the other the trial point), and which gradient vector is x's.
  let [x, trial] = [0, 1];
  let [g, gOther] = [2, 3];
  memory.vector(x).set(x0);
  if (options.bounds) project(memory.vector(x), undefined, options.bounds);
  let current: Evaluation | undefined;
  let slope = 0; // gradient · direction at x
  let t = 1;
  let backtracks = 0;

  /** direction = −H·g, or −g when there is no curvature yet or −H·g does not go down. */
  const chooseDirection = () => {
    slope = pairs.size > 0 ? pairs.descend(g, DIRECTION) : Number.NaN;
    if (!(slope < 0)) {
      pairs.clear();
      memory.addPair(-1, g, 0, g, DIRECTION, false);
      slope = -memory.dot(g, g);
    }
    // Without curvature estimates the gradient's scale is arbitrary: size the step so that pixels move by
    // `learningRate` levels (of 255) on average. Afterwards L-BFGS's own scaling makes 1 the natural step.
    t = pairs.size === 0 ? ((options.learningRate ?? 1) * n) / sumAbs(memory.vector(g)) : 1;
    backtracks = 0;
  };

  return {
    get x() {
      return memory.vector(x);
    },
    async step() {
      if (!current) {
        current = await objective.evaluate(memory.vector(x));
        memory.vector(g).set(current.gradient);
        chooseDirection();
        return current;
      }
      memory.addPair(1, x, t, DIRECTION, trial, false);
      // Projected, the step is shorter where it would leave the bounds: the decrease expected of it is that of
      // the step taken, t·slope plus g·(projected − unprojected) over the values that were moved back.
      const moved = options.bounds ? project(memory.vector(trial), memory.vector(g), options.bounds) : 0;
      const next = await objective.evaluate(memory.vector(trial));
      const expected = t * slope + moved;
      const sufficient = next.loss <= current.loss + 1e-4 * expected;
      if (!sufficient && backtracks < 10 && Number.isFinite(current.loss)) {
        t *= backtrack(expected, next.loss - current.loss);
        backtracks++;
        return current;
      }
      if (!sufficient) {
        // The line search gave up: keep x, forget the curvature and start again down the gradient.
        pairs.clear();
        chooseDirection();
        return current;
      }
      memory.vector(gOther).set(next.gradient);
      [g, gOther] = [gOther, g];
      pairs.add(trial, x, g, gOther);
      [x, trial] = [trial, x];
      current = next;
      chooseDirection();
      return next;
    },
  };
}

/** Vectors of L-BFGS's memory: 0 and 1 the points, 2 and 3 the gradients, then the direction and the pairs. */
const DIRECTION = 4;
const PAIRS = 5;

/**
 * The last m curvature pairs s = Δx, y = Δgradient, and −H·g from them. Vectors are indices into the
 * VectorMemory; the pairs take m + 1 slots of two vectors from PAIRS on (m for the history, one that the
 * next pair is written into before it is known to be kept).
 *
 * H·g comes from the compact form of the L-BFGS inverse Hessian (Byrd, Nocedal & Schnabel 1994) rather than
 * the two-loop recursion. Both give the same H·g, but the two-loop recursion walks the pairs one after the
 * other, a pass over n values each; the compact form needs every pair's dot products with g (one pass over
 * the history, which also yields the new pair's row of the small matrices), k×k algebra, and one weighted
 * sum of the pairs (one more pass). With the SIMD kernels, at 256 px, the optimiser's share of an iteration
 * fell from about 13 ms to about 2.
 */
export class CurvaturePairs {
  readonly #m: number;
  readonly #memory: VectorMemory;
  /** Slots of the pairs, oldest first; the others are free. */
  readonly #order: number[] = [];
  readonly #free: number[];
  /** Row-major m×m, in the order of #order: r[i·m + j] = sᵢ·yⱼ (i ≤ j, R), yy[i·m + j] = yᵢ·yⱼ. */
  readonly #r: Float64Array;
  readonly #yy: Float64Array;
  /** sᵢ·g and yᵢ·g for the gradient last given to `add`. */
  readonly #sg: Float64Array;
  readonly #yg: Float64Array;

  constructor(m: number, memory: VectorMemory) {
    this.#m = m;
    this.#memory = memory;
    this.#free = Array.from({ length: m + 1 }, (_, i) => m - i);
    this.#r = new Float64Array(m * m);
    this.#yy = new Float64Array(m * m);
    this.#sg = new Float64Array(m);
    this.#yg = new Float64Array(m);
  }

  get size(): number {
    return this.#order.length;
  }

  clear(): void {
    this.#free.push(...this.#order.splice(0));
  }

  /**
   * Adds the pair for the step from `x` to `next` (gradients `previous`, then `g`), unless it lacks positive
   * curvature, which would make H indefinite; the oldest pair goes when the history is full. Also takes
   * every pair's dot products with g, which `descend(g)` needs next. All arguments are vectors of the memory.
   */
  add(next: number, x: number, g: number, previous: number): void {
    const [m, memory] = [this.#m, this.#memory];
    const slot = this.#free.at(-1)!;
    const [s, y] = [sOf(slot), yOf(slot)];
    memory.addPair(1, next, -1, x, s, false);
    memory.addPair(1, g, -1, previous, y, false);
    const [sg, yg, sy, yy] = memory.pairDots(s, y, g, y);
    const keep = sy > 1e-10;
    if (keep && this.#order.length === m) {
      this.#free.unshift(this.#order.shift()!);
      dropFirst(this.#r, m);
      dropFirst(this.#yy, m);
    }
    // The older pairs' products with g and, for the new pair's column of R and YᵀY, with its y.
    const k = this.#order.length;
    for (let i = 0; i < k; i++) {
      const p = this.#order[i]!;
      const [pg, qg, py, qy] = memory.pairDots(sOf(p), yOf(p), g, y);
      this.#sg[i] = pg;
      this.#yg[i] = qg;
      if (keep) {
        this.#r[i * m + k] = py;
        this.#yy[i * m + k] = this.#yy[k * m + i] = qy;
      }
    }
    if (!keep) return;
    this.#order.push(this.#free.pop()!);
    this.#r[k * m + k] = sy;
    this.#yy[k * m + k] = yy;
    this.#sg[k] = sg;
    this.#yg[k] = yg;
  }

  /**
   * Writes d = −H·g into the vector `out`, for the gradient last given to `add`, and returns g·d.
   * H = γI + [S γY]·M·[Sᵀ; γYᵀ] with γ = sᵀy / yᵀy of the newest pair and
   * M = [[R⁻ᵀ(D + γYᵀY)R⁻¹, −R⁻ᵀ], [−R⁻¹, 0]] (D the diagonal of R); so with u = R⁻¹(Sᵀg) and
   * v = R⁻ᵀ((D + γYᵀY)u − γYᵀg):  H·g = γg + S·v − γY·u.
   */
  descend(g: number, out: number): number {
    const [m, k, r, yy] = [this.#m, this.#order.length, this.#r, this.#yy];
    const gamma = r[(k - 1) * (m + 1)]! / yy[(k - 1) * (m + 1)]!;
    // u = R⁻¹ Sᵀg: back substitution (R is upper triangular).
    const u = new Float64Array(k);
    for (let i = k - 1; i >= 0; i--) {
      let sum = this.#sg[i]!;
      for (let j = i + 1; j < k; j++) sum -= r[i * m + j]! * u[j]!;
      u[i] = sum / r[i * m + i]!;
    }
    // v = R⁻ᵀ w with w = D·u + γ·YᵀY·u − γ·Yᵀg: forward substitution.
    const v = new Float64Array(k);
    for (let i = 0; i < k; i++) {
      let w = r[i * m + i]! * u[i]! - gamma * this.#yg[i]!;
      for (let j = 0; j < k; j++) w += gamma * yy[i * m + j]! * u[j]!;
      for (let j = 0; j < i; j++) w -= r[j * m + i]! * v[j]!;
      v[i] = w / r[i * m + i]!;
    }
    const memory = this.#memory;
    memory.addPair(-gamma, g, 0, g, out, false);
    for (let i = 0; i < k; i++) {
      const p = this.#order[i]!;
      memory.addPair(-v[i]!, sOf(p), gamma * u[i]!, yOf(p), out, true);
    }
    return memory.dot(g, out);
  }
}

const sOf = (slot: number) => PAIRS + 2 * slot;
const yOf = (slot: number) => PAIRS + 2 * slot + 1;

/** Drops row 0 and column 0 of a row-major m×m matrix (the oldest pair), moving the rest up and left. */
function dropFirst(a: Float64Array, m: number): void {
  for (let i = 1; i < m; i++) for (let j = 1; j < m; j++) a[(i - 1) * m + (j - 1)] = a[i * m + j]!;
}

/** Adam (Kingma & Ba) with the usual β₁ = 0.9, β₂ = 0.999. */
function adam(objective: Objective, x0: Float32Array, options: OptimizerOptions): Optimizer {
  const lr = options.learningRate ?? 4;
  const [beta1, beta2, epsilon] = [0.9, 0.999, 1e-8];
  const x = x0.slice();
  if (options.bounds) project(x, undefined, options.bounds);
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
      if (options.bounds) project(x, undefined, options.bounds);
      return result;
    },
  };
}

/**
 * The factor a rejected step is shortened by: the minimiser of the quadratic through the loss at the start, its
 * slope and the loss at the rejected point (Nocedal & Wright, section 3.5), kept within [1/10, 1/2]. `expected`
 * is the first-order change of the rejected step (negative), `actual` the change it made. A step that overshot
 * far costs fewer evaluations than halving: from the Tübingen photo at 128 px (The Starry Night, strength 50),
 * the first step that overshot was accepted at its 3rd trial instead of its 7th.
 */
function backtrack(expected: number, actual: number): number {
  const curvature = actual - expected;
  const factor = Number.isFinite(actual) && curvature > 0 ? -expected / (2 * curvature) : 0.5;
  return Math.min(0.5, Math.max(0.1, factor));
}

/** Clamps `values` into the bounds in place; returns Σ gradient·(clamped − value) over what it changed. */
function project(
  values: Float32Array,
  gradient: Float32Array | undefined,
  bounds: { min: number; max: number },
): number {
  let change = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    const clamped = Math.min(Math.max(v, bounds.min), bounds.max);
    if (clamped === v) continue;
    change += (gradient?.[i] ?? 0) * (clamped - v);
    values[i] = clamped;
  }
  return change;
}

function sumAbs(values: Float32Array): number {
  let sum = 0;
  for (const v of values) sum += Math.abs(v);
  return sum || 1;
}
