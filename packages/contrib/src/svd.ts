/**
 * The leading left singular vectors of a small matrix, on the host in
 * float64 (tfjs has no SVD), for GaLore's projectors.
 *
 * @module
 */

/**
 * The `r` left singular vectors of the `rows × cols` matrix `a` (row-major,
 * `rows ≥ cols ≥ r`) with the largest singular values, in descending order,
 * as a row-major `rows × r` array: one-sided Jacobi (Hestenes) rotations in
 * float64 until every pair of columns is orthogonal to 1e-15 (at most 60
 * sweeps), then `u_j = b_j / ‖b_j‖`. Cost `O(rows · cols²)` per sweep. The
 * sign of each vector is the one the rotations leave (a singular vector's
 * sign is arbitrary; LAPACK's differs from case to case).
 */
export function leftSingularVectors(a: ArrayLike<number>, rows: number, cols: number, r: number): Float64Array {
  // columns of b, each contiguous
  const b = Array.from({ length: cols }, (_, j) => Float64Array.from({ length: rows }, (_, i) => a[i * cols + j] as number));
  const dot = (x: Float64Array, y: Float64Array) => x.reduce((s, v, i) => s + v * (y[i] as number), 0);
  for (let sweep = 0; sweep < 60; sweep++) {
    let rotated = false;
    for (let p = 0; p < cols - 1; p++) {
      for (let q = p + 1; q < cols; q++) {
        const [bp, bq] = [b[p] as Float64Array, b[q] as Float64Array];
        const [alpha, beta, gamma] = [dot(bp, bp), dot(bq, bq), dot(bp, bq)];
        if (Math.abs(gamma) <= 1e-15 * Math.sqrt(alpha * beta) || gamma === 0) continue;
        rotated = true;
        const zeta = (beta - alpha) / (2 * gamma);
        const t = (zeta >= 0 ? 1 : -1) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
        const c = 1 / Math.sqrt(1 + t * t);
        const s = c * t;
        for (let i = 0; i < rows; i++) {
          const [x, y] = [bp[i] as number, bq[i] as number];
          bp[i] = c * x - s * y;
          bq[i] = s * x + c * y;
        }
      }
    }
    if (!rotated) break;
  }
  const norms = b.map((col) => Math.sqrt(dot(col, col)));
  const order = norms.map((_, j) => j).sort((i, j) => (norms[j] as number) - (norms[i] as number));
  const u = new Float64Array(rows * r);
  order.slice(0, r).forEach((j, k) => {
    const col = b[j] as Float64Array;
    const n = norms[j] as number;
    for (let i = 0; i < rows; i++) u[i * r + k] = n === 0 ? (i === k ? 1 : 0) : (col[i] as number) / n;
  });
  return u;
}
