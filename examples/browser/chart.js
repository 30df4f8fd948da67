// A small line chart on a <canvas>: one curve per run, the raw loss faint and
// an exponential moving average on top, axes with round ticks, a legend.

const PAD = { left: 52, right: 16, top: 16, bottom: 34 };

function niceStep(span, target) {
  const raw = span / target;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const f = raw / mag;
  return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * mag;
}

function smooth(values, alpha = 0.9) {
  const out = [];
  let m = values[0];
  for (const v of values) {
    m = alpha * m + (1 - alpha) * v;
    out.push(m);
  }
  return out;
}

/**
 * Draws `series` ([{ label, color, values }]) on `canvas`, over `maxSteps`
 * steps on the x axis. Returns the number of curves drawn.
 */
export function drawChart(canvas, series, maxSteps) {
  const ctx = canvas.getContext('2d');
  const { width, height } = canvas;
  const w = width - PAD.left - PAD.right;
  const h = height - PAD.top - PAD.bottom;
  ctx.clearRect(0, 0, width, height);
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, width, height);

  const all = series.flatMap((s) => s.values).filter(Number.isFinite);
  const yMax = all.length > 0 ? Math.max(0.5, ...all.slice(0, 4000)) * 1.05 : 2.5;
  const x = (i) => PAD.left + (i / Math.max(1, maxSteps)) * w;
  const y = (v) => PAD.top + h - (Math.min(v, yMax) / yMax) * h;

  // grid and ticks
  ctx.font = '12px system-ui, sans-serif';
  ctx.fillStyle = '#555e70';
  ctx.strokeStyle = '#eceef3';
  ctx.lineWidth = 1;
  const yStep = niceStep(yMax, 5);
  ctx.textAlign = 'right';
  ctx.textBaseline = 'middle';
  for (let v = 0; v <= yMax + 1e-9; v += yStep) {
    ctx.beginPath();
    ctx.moveTo(PAD.left, y(v));
    ctx.lineTo(PAD.left + w, y(v));
    ctx.stroke();
    ctx.fillText(v.toFixed(yStep < 1 ? 1 : 0), PAD.left - 6, y(v));
  }
  const xStep = niceStep(maxSteps, 6);
  ctx.textAlign = 'center';
  ctx.textBaseline = 'top';
  for (let s = 0; s <= maxSteps; s += xStep) {
    ctx.beginPath();
    ctx.moveTo(x(s), PAD.top);
    ctx.lineTo(x(s), PAD.top + h);
    ctx.stroke();
    ctx.fillText(String(s), x(s), PAD.top + h + 6);
  }
  ctx.strokeStyle = '#9aa1b0';
  ctx.strokeRect(PAD.left, PAD.top, w, h);
  ctx.fillText('step', PAD.left + w / 2, PAD.top + h + 20);
  ctx.save();
  ctx.translate(14, PAD.top + h / 2);
  ctx.rotate(-Math.PI / 2);
  ctx.fillText('training loss (cross-entropy)', 0, -6);
  ctx.restore();

  // curves
  let drawn = 0;
  for (const s of series) {
    if (s.values.length < 2) continue;
    const line = (values, alpha, width) => {
      ctx.globalAlpha = alpha;
      ctx.strokeStyle = s.color;
      ctx.lineWidth = width;
      ctx.beginPath();
      values.forEach((v, i) => {
        i === 0 ? ctx.moveTo(x(i), y(v)) : ctx.lineTo(x(i), y(v));
      });
      ctx.stroke();
    };
    line(s.values, 0.25, 1);
    line(smooth(s.values), 1, 2.5);
    ctx.globalAlpha = 1;
    drawn++;
  }

  // legend
  ctx.textAlign = 'left';
  ctx.textBaseline = 'middle';
  series.forEach((s, i) => {
    const ly = PAD.top + 14 + i * 18;
    const lx = PAD.left + w - 200;
    ctx.fillStyle = s.color;
    ctx.fillRect(lx, ly - 5, 14, 10);
    ctx.fillStyle = '#1d2330';
    ctx.fillText(s.label, lx + 20, ly);
  });
  return drawn;
}
