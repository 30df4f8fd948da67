import type * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import {
  adabelief,
  adadelta,
  adafactor,
  adagrad,
  adam,
  adamax,
  adamaxw,
  adamw,
  amsgrad,
  fromage,
  lamb,
  lars,
  lion,
  nadam,
  nadamw,
  noisySgd,
  novograd,
  optimisticGradientDescent,
  radam,
  rmsprop,
  rprop,
  sgd,
  signSgd,
  signum,
  sm3,
  yogi,
} from './aliases.js';
import type { GradientTransformation } from './base.js';
import { disposeTree, expectNoLeaks, expectTreeClose, runSteps, t, toArrays } from './test-utils/index.js';

/** Params and three steps of gradients shared by the optax comparisons below. */
const P0 = {
  w: [
    [0.5, -1.0, 2.0],
    [1.5, 0.25, -0.75],
  ],
  b: [0.1, -0.2, 0.3],
};
const GRADS = [
  {
    w: [
      [0.3, -0.2, 0.1],
      [-0.5, 0.4, 0.05],
    ],
    b: [0.01, -0.02, 0.5],
  },
  {
    w: [
      [-0.1, 0.6, 0.2],
      [0.3, -0.1, 0.7],
    ],
    b: [0.2, 0.1, -0.3],
  },
  {
    w: [
      [0.4, 0.0, -0.3],
      [0.2, 0.2, -0.2],
    ],
    b: [-0.05, 0.3, 0.1],
  },
];

function tensors(tree: { w: number[][]; b: number[] }): { w: tf.Tensor; b: tf.Tensor } {
  return { w: t(tree.w), b: t(tree.b) };
}

/**
 * Runs `tx` for the three steps of GRADS from P0 (applying each step's
 * updates to the params, as optax's loop does) and returns each step's
 * updates as arrays. Every tensor it makes is disposed.
 */
function threeSteps(tx: GradientTransformation): unknown[] {
  const params = tensors(P0);
  const grads = GRADS.map(tensors);
  const { updates } = runSteps(tx, params, grads);
  disposeTree([params, grads]);
  return updates;
}

/*
 * Updates of three steps printed by optax 0.2.8 (jax float32, cpu), with
 *
 *   params0 = {'w': jnp.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]]), 'b': jnp.array([0.1, -0.2, 0.3])}
 *   grads = [{'w': [[0.3, -0.2, 0.1], [-0.5, 0.4, 0.05]], 'b': [0.01, -0.02, 0.5]},
 *            {'w': [[-0.1, 0.6, 0.2], [0.3, -0.1, 0.7]], 'b': [0.2, 0.1, -0.3]},
 *            {'w': [[0.4, 0.0, -0.3], [0.2, 0.2, -0.2]], 'b': [-0.05, 0.3, 0.1]}]   # as float32 arrays
 *   cases = {
 *     'adam': optax.adam(0.1),
 *     'adamwMask': optax.adamw(0.1, weight_decay=0.1, mask={'w': True, 'b': False}),
 *     'nadamw': optax.nadamw(0.05, b1=0.8, weight_decay=0.01),
 *     'sgdNesterov': optax.sgd(0.1, momentum=0.9, nesterov=True),
 *     'rmspropCentered': optax.rmsprop(0.01, decay=0.8, centered=True, momentum=0.5),
 *     'adagrad': optax.adagrad(0.5),
 *     'lamb': optax.lamb(0.01, weight_decay=0.1),
 *     'lars': optax.lars(0.5, weight_decay=0.01, momentum=0.8),
 *     'lion': optax.lion(0.01, weight_decay=0.1),
 *     'adafactor': optax.adafactor(0.05, min_dim_size_to_factor=2, momentum=0.9),
 *     'novograd': optax.novograd(0.01, weight_decay=0.1),
 *     'amsgrad': optax.amsgrad(0.1),
 *     'fromage': optax.fromage(0.05),
 *     'sm3': optax.sm3(0.1),
 *     'rprop': optax.rprop(0.1),
 *     'adadeltaNoLr': optax.adadelta(),
 *     'adafactorNoLr': optax.adafactor(min_dim_size_to_factor=2),
 *   }
 *   for name, opt in cases.items():
 *     p = params0; s = opt.init(p)
 *     for g in grads:
 *       u, s = opt.update(g, s, p)
 *       p = optax.apply_updates(p, u)
 *       print(name, {k: np.asarray(v).reshape(-1).tolist() for k, v in u.items()})
 *
 * (printed as the shortest decimal that rounds to the same float32).
 */
const OPTAX: Record<string, { w: number[]; b: number[] }[]> = {
  adam: [
    { w: [-0.09999933, 0.09999933, -0.09999933, 0.09999933, -0.09999934, -0.099999316], b: [-0.09999924, 0.09999929, -0.09999933] },
    { w: [-0.040021453, -0.04941849, -0.09651723, 0.019149607, -0.046946343, -0.07899556], b: [-0.07766459, -0.059834816, -0.019149607] },
    { w: [-0.06930582, -0.03820088, 0.006659875, -0.006741114, -0.060547184, -0.041207314], b: [-0.042762823, -0.07536476, -0.025396425] },
  ],
  adamwMask: [
    { w: [-0.104999326, 0.10999934, -0.11999934, 0.08499934, -0.10249934, -0.092499316], b: [-0.09999924, 0.09999929, -0.09999933] },
    { w: [-0.04397146, -0.040518485, -0.115317225, 0.0032996119, -0.04842135, -0.07057057], b: [-0.07766459, -0.059834816, -0.019149607] },
    { w: [-0.07281611, -0.02889569, -0.0109869605, -0.022624103, -0.06153798, -0.032076616], b: [-0.042762823, -0.07536476, -0.025396425] },
  ],
  nadamw: [
    { w: [-0.07247176, 0.07272176, -0.07322176, 0.07147177, -0.07234677, -0.071846746], b: [-0.0722717, 0.072321735, -0.07237177] },
    { w: [0.0019453276, -0.05292198, -0.0651203, -0.0170228, -0.0029321157, -0.06320293], b: [-0.0633133, -0.057539385, 0.01612325] },
    { w: [-0.05161661, -0.01257273, 0.03228425, -0.01686573, -0.03484425, -0.0024371918], b: [-0.0046197614, -0.060682584, -0.013266459] },
  ],
  sgdNesterov: [
    { w: [-0.057000007, 0.038, -0.019, 0.095, -0.076, -0.0095], b: [-0.0018999999, 0.0037999998, -0.095] },
    { w: [-0.0053000012, -0.09780001, -0.046099998, -0.016500004, -0.013399998, -0.13705], b: [-0.03881, -0.01738, 0.016500004] },
    { w: [-0.089770004, -0.03402, 0.033510007, -0.025850004, -0.059059996, -0.022344999], b: [-0.0074289995, -0.063642, -0.031149998] },
  ],
  rmspropCentered: [
    { w: [-0.02499999, 0.02499998, -0.02499992, 0.024999997, -0.024999995, -0.024999687], b: [-0.024992192, 0.024998046, -0.024999997] },
    { w: [-0.004497693, -0.010072358, -0.037375867, 0, -0.0062577967, -0.03780906], b: [-0.03772288, -0.011191474, 0] },
    {
      w: [-0.023742344, -0.005036179, 1.1762045e-4, -0.008620688, -0.015926039, -0.01185867],
      b: [-0.012597159, -0.030720118, -0.00460756],
    },
  ],
  adagrad: [
    { w: [-0.34412354, 0.26726115, -0.15075561, 0.42257708, -0.3922322, -0.078086846], b: [-0.01580348, 0.031559706, -0.42257708] },
    { w: [0.11180337, -0.42426404, -0.2581988, -0.2261335, 0.09622503, -0.45469883], b: [-0.26716575, -0.15048225, 0.2261335] },
    { w: [-0.33333328, -0, 0.30618614, -0.14433756, -0.17960529, 0.1257389], b: [0.06620337, -0.33507523, -0.0745356] },
  ],
  lamb: [
    {
      w: [-0.0118481275, 0.012412311, -0.013540659, 0.0095913345, -0.011566035, -0.0104374355],
      b: [-0.0021388934, 0.0021601785, -0.0021814592],
    },
    {
      w: [-0.008122948, -0.007153267, -0.021053446, 7.333073e-4, -0.008923926, -0.012914688],
      b: [-0.0029120883, -0.0021423562, -8.193764e-4],
    },
    {
      w: [-0.019147046, -0.0072999396, -0.0033573702, -0.0056440146, -0.016236765, -0.008648739],
      b: [-0.0017993754, -0.003020005, -0.0011676826],
    },
  ],
  lars: [
    {
      w: [-5.85839e-4, 4.0336454e-4, -2.3049401e-4, 9.3157997e-4, -7.731153e-4, -8.16333e-5],
      b: [-4.0863933e-6, 8.172787e-6, -1.8685963e-4],
    },
    {
      w: [-3.3284505e-4, -5.208138e-4, -4.9891724e-4, 2.9490766e-4, -4.7908933e-4, -0.0010553453],
      b: [-1.04373976e-4, -4.275673e-5, -9.298674e-8],
    },
    {
      w: [-0.0012116679, -3.9330477e-4, 2.5450232e-4, -2.6598858e-4, -8.559489e-4, -3.5987128e-4],
      b: [-5.47814e-5, -2.088523e-4, -6.04379e-5],
    },
  ],
  lion: [
    { w: [-0.010499999, 0.011, -0.012, 0.0085, -0.010249999, -0.00925], b: [-0.0101, 0.010199999, -0.010299999] },
    { w: [0.009510499, -0.009010999, -0.011987999, -0.0115085, 0.009760249, -0.00924075], b: [-0.0100899, -0.0098102, 0.0097103] },
    { w: [-0.01049901, -0.009001989, 0.0080239875, -0.011496992, -0.0102495095, 0.010768491], b: [0.00992019, -0.009800389, -0.010299411] },
  ],
  adafactor: [
    {
      w: [-0.0053857868, 0.0046814713, -0.009362943, 0.0052293767, -0.0054546185, -0.0027273092],
      b: [-0.0010801236, 0.0010801236, -0.0010801236],
    },
    {
      w: [-0.0028742382, -0.005542637, -0.011614552, 2.2376608e-4, -0.0036777142, -0.010904812],
      b: [-0.0021998414, -2.389368e-4, -2.694555e-4],
    },
    {
      w: [-0.010373445, -0.0049883733, -0.005049683, -0.0032549386, -0.006861093, -0.0066163763],
      b: [-0.0015341915, -0.0018083972, -5.8779784e-4],
    },
  ],
  novograd: [
    {
      w: [-0.0045360317, 0.0036906877, -0.0033453437, 0.005226719, -0.005631375, 7.7328106e-5],
      b: [-2.997999e-4, 5.995998e-4, -0.010289995],
    },
    {
      w: [-0.0035167774, -0.002048762, -0.007129694, 1.5475327e-5, -0.004251491, -0.0066082864],
      b: [-0.0052544633, -0.0017034314, -0.00222329],
    },
    {
      w: [-0.009316546, -8.455276e-4, -0.004161625, -0.004321064, -0.0068962085, -0.002361177],
      b: [-0.0033727055, -0.010036528, -0.005189962],
    },
  ],
  // composition details: a negative weight decay (fromage), scale(-lr) (sm3),
  // scale(-1) (rprop), and no learning-rate step when it is left out.
  amsgrad: [
    { w: [-0.09999933, 0.09999933, -0.09999933, 0.09999933, -0.09999934, -0.099999316], b: [-0.09999924, 0.09999929, -0.09999933] },
    { w: [-0.029824361, -0.04941849, -0.09651723, 0.015789365, -0.034210294, -0.07899556], b: [-0.07766459, -0.059834816, -0.015789365] },
    { w: [-0.068019226, -0.031182885, 0.006659875, -0.004797019, -0.04003663, -0.034977626], b: [-0.035979465, -0.07536476, -0.017343055] },
  ],
  fromage: [
    { w: [-0.05807444, 0.039548066, -0.021645525, 0.09387952, -0.07691273, -0.008639356], b: [-4.980919e-4, 9.961838e-4, -0.01904059] },
    { w: [0.013729037, -0.084484145, -0.031029137, -0.044829853, 0.014064456, -0.09901635], b: [-0.009690492, -0.004534885, 0.013998982] },
    { w: [-0.0949578, 0.001303726, 0.06836237, -0.049127337, -0.04742815, 0.048264712], b: [0.0027692795, -0.017034054, -0.0061306753] },
  ],
  sm3: [
    { w: [-0.01, 0.009999999, -0.009999995, 0.010000001, -0.01, -0.009999981], b: [-0.009999501, 0.009999875, -0.010000001] },
    {
      w: [-0.0058377213, 5.5726618e-5, -0.017944265, 0.003855042, -0.006574643, -0.018899478],
      b: [-0.018987073, -8.059144e-4, -0.003855042],
    },
    {
      w: [-0.010910803, 5.0153958e-5, -0.012067355, 2.2510924e-4, -0.008774321, -0.014287874],
      b: [-0.014665857, -0.010193239, -0.005159846],
    },
  ],
  rprop: [
    { w: [-0, -0, -0, -0, -0, -0], b: [-0, -0, -0] },
    { w: [-0, -0, -0.1, -0, -0, -0.1], b: [-0.1, -0, -0] },
    { w: [-0, -0, -0, -0, -0, -0], b: [-0, -0, -0] },
  ],
  adadeltaNoLr: [
    {
      w: [0.003162102, -0.0031618827, 0.0031606976, -0.0031622148, 0.003162179, 0.003155972],
      b: [0.0030151133, -0.0031234755, 0.0031622148],
    },
    {
      w: [-0.0014823759, 0.004263694, 0.0040391893, 0.0023903956, -0.0011395509, 0.0044574123],
      b: [0.0043638633, 0.0043647685, -0.0023903956],
    },
    { w: [0.0037442471, 0, -0.004867605, 0.0017480524, 0.002132082, -0.0017932438], b: [-0.0015529054, 0.005854639, 9.176073e-4] },
  ],
  adafactorNoLr: [
    { w: [-1.0771574, 0.9362942, -1.8725884, 1.0458753, -1.0909238, -0.5454619], b: [-0.21602471, 0.21602471, -0.21602471] },
    { w: [0.42125612, -2.0830314, -0.6806614, -0.95711225, 0.26292986, -1.804241], b: [-0.09501789, -0.09372679, 0.054380726] },
    { w: [-2.2874298, -0, 1.5873268, -1.0153438, -1.0431992, 0.93944293], b: [0.063305765, -0.2263322, -0.04904734] },
  ],
};

/** The gradtx counterpart of each optax case above. */
const GRADTX: Record<string, () => GradientTransformation> = {
  adam: () => adam(0.1),
  adamwMask: () => adamw(0.1, { weightDecay: 0.1, mask: { w: true, b: false } }),
  nadamw: () => nadamw(0.05, { b1: 0.8, weightDecay: 0.01 }),
  sgdNesterov: () => sgd(0.1, { momentum: 0.9, nesterov: true }),
  rmspropCentered: () => rmsprop(0.01, { decay: 0.8, centered: true, momentum: 0.5 }),
  adagrad: () => adagrad(0.5),
  lamb: () => lamb(0.01, { weightDecay: 0.1 }),
  lars: () => lars(0.5, { weightDecay: 0.01, momentum: 0.8 }),
  lion: () => lion(0.01, { weightDecay: 0.1 }),
  adafactor: () => adafactor(0.05, { minDimSizeToFactor: 2, momentum: 0.9 }),
  novograd: () => novograd(0.01, { weightDecay: 0.1 }),
  amsgrad: () => amsgrad(0.1),
  fromage: () => fromage(0.05),
  sm3: () => sm3(0.1),
  rprop: () => rprop(0.1),
  adadeltaNoLr: () => adadelta(),
  adafactorNoLr: () => adafactor(undefined, { minDimSizeToFactor: 2 }),
};

/**
 * float32 agreement: a few ulps of each value (rtol 2e-6), plus an absolute
 * floor of 1e-7 times the largest value of the case, for elements that are
 * differences of nearly equal terms (e.g. rmsprop with momentum gives an
 * exact 0 in optax and one ulp of 0.0125 here).
 */
function tolFor(want: { w: number[]; b: number[] }[]): { rtol: number; atol: number } {
  const largest = Math.max(...want.flatMap((u) => [...u.w, ...u.b].map(Math.abs)));
  return { rtol: 2e-6, atol: 1e-7 * largest };
}

function expectSteps(got: unknown[], want: { w: number[]; b: number[] }[], tol = tolFor(want)): void {
  expect(got).toHaveLength(want.length);
  got.forEach((u, i) => {
    expectTreeClose(u, want[i], tol);
  });
}

describe('aliases match optax 0.2.8 step by step', () => {
  for (const [name, make] of Object.entries(GRADTX)) {
    it(`${name}: three steps`, async () => {
      await expectNoLeaks(() => expectSteps(threeSteps(make()), OPTAX[name] as { w: number[]; b: number[] }[]));
    });
  }

  it("amsgrad passes `mode: 'torch'` on: three steps match torch.optim.Adam(amsgrad=True)", async () => {
    // From torch 1.13 (float32): the params' change over each of three steps of
    //   opt = torch.optim.Adam([w, b], lr=0.1, amsgrad=True)
    // with the params and gradients above. These are differences of float32
    // params of size up to 2, so they carry ~1e-7 of rounding: atol 3e-7.
    const torchSteps = [
      { w: [-0.099999994, 0.100000024, -0.100000024, 0.100000024, -0.099999994, -0.099999964], b: [-0.0999999, 0.09999995, -0.099999994] },
      {
        w: [-0.040021867, -0.049418986, -0.09651816, 0.01914978, -0.046946824, -0.07899636],
        b: [-0.077665366, -0.059835404, -0.019149795],
      },
      {
        w: [-0.069306076, -0.0381819, 0.0066598654, -0.006741166, -0.060547408, -0.041207492],
        b: [-0.042762987, -0.07536504, -0.025396511],
      },
    ];
    await expectNoLeaks(() => {
      const got = threeSteps(amsgrad(0.1, { mode: 'torch' }));
      expectSteps(got, torchSteps, { rtol: 2e-5, atol: 3e-7 });
      // ...and the two modes differ here (step 2, w[0]: -0.0400 in torch, -0.0298 in optax)
      expect(Math.abs((((got[1] as { w: number[][] }).w[0] as number[])[0] as number) - -0.029824361)).toBeGreaterThan(1e-3);
    });
  });
});

describe('a schedule as the learning rate', () => {
  it('sgd takes lr(count) at each step: u = -lr(t) g', async () => {
    await expectNoLeaks(() => {
      const lr = (count: number) => 0.1 * (count + 1);
      const got = threeSteps(sgd(lr));
      GRADS.forEach((g, i) => {
        const want = { w: g.w.flat().map((x) => -lr(i) * x), b: g.b.map((x) => -lr(i) * x) };
        expectTreeClose(got[i], want, { rtol: 1e-6, atol: 1e-9 });
      });
    });
  });

  it('a constant schedule gives the same steps as the constant (adam, adamw with a weight-decay schedule, fromage, adafactor, sm3)', async () => {
    await expectNoLeaks(() => {
      expectSteps(threeSteps(adam(() => 0.1)), OPTAX.adam as { w: number[]; b: number[] }[]);
      expectSteps(
        threeSteps(adamw(() => 0.1, { weightDecay: () => 0.1, mask: { w: true, b: false } })),
        OPTAX.adamwMask as { w: number[]; b: number[] }[],
      );
      // fromage has a separate branch for schedules (mult = 1/sqrt(1 + lr(t)^2) per step)
      expectSteps(threeSteps(fromage(() => 0.05)), OPTAX.fromage as { w: number[]; b: number[] }[]);
      expectSteps(
        threeSteps(adafactor(() => 0.05, { minDimSizeToFactor: 2, momentum: 0.9 })),
        OPTAX.adafactor as { w: number[]; b: number[] }[],
      );
      // optax's sm3 takes only a constant; gradtx also takes a schedule
      expectSteps(threeSteps(sm3(() => 0.1)), OPTAX.sm3 as { w: number[]; b: number[] }[]);
    });
  });

  it('a schedule that returns NaN is an error at the step, not a silent NaN', async () => {
    await expectNoLeaks(() => {
      const params = tensors(P0);
      const tx = adam(() => Number.NaN);
      const s = tx.init(params);
      expect(() => tx.update(params, s, params)).toThrow(/NaN/);
      return [params, s];
    });
  });
});

describe('alias options', () => {
  it('rejects an unknown (e.g. snake_case) option, naming it and listing the known ones', () => {
    expect(() => adamw(0.1, { weight_decay: 0.1 } as never)).toThrow(
      /^adamw: unknown option `weight_decay`; the options are .*`weightDecay`/,
    );
    expect(() => sgd(0.1, { momentun: 0.9 } as never)).toThrow(/^sgd: unknown option `momentun`/);
    expect(() => adafactor(undefined, { lr: 1 } as never)).toThrow(/^adafactor: unknown option `lr`/);
    expect(() => rprop(0.1, { etaMinus: 0.5, eta_plus: 1.2 } as never)).toThrow(/^rprop: unknown option `eta_plus`/);
  });

  it('rejects options that are not an object', () => {
    expect(() => adam(0.1, 0.9 as never)).toThrow(/^adam: the options must be an object, got 0\.9/);
    expect(() => lion(0.1, null as never)).toThrow(/^lion: the options must be an object, got null/);
  });

  it('passes hyperparameters on, so their checks name them', () => {
    expect(() => adam(0.1, { b1: 1 })).toThrow(/b1/);
    expect(() => rmsprop(0.1, { decay: 1.5 })).toThrow(/decay/);
    expect(() => lars(0.1, { momentum: Number.NaN })).toThrow(/decay|momentum/);
  });

  it('rprop wants a number learning rate (its initial step size), not a schedule', () => {
    expect(() => rprop((() => 0.1) as never)).toThrow(/^rprop: `learningRate` must be a finite number >= 0/);
  });
});

describe('compositions (optax 0.2.8 alias.py)', () => {
  const leaves = () => tensors(P0);
  const stateOf = (tx: GradientTransformation) => {
    const p = leaves();
    const s = tx.init(p) as unknown[];
    const out = toArrays(s) as unknown[];
    disposeTree([p, s]);
    return out;
  };

  it('sgd adds a trace only when momentum is given', async () => {
    await expectNoLeaks(() => {
      const plain = stateOf(sgd(0.1));
      expect(plain).toHaveLength(2);
      expect(plain[0]).toEqual({});
      const withMomentum = stateOf(sgd(0.1, { momentum: 0.9 }));
      expect(withMomentum).toHaveLength(2);
      expect(Object.keys(withMomentum[0] as object)).toEqual(['trace']);
    });
  });

  it('rmsprop: rms or stddev, then the learning rate, then a trace only with momentum', async () => {
    await expectNoLeaks(() => {
      const plain = stateOf(rmsprop(0.1));
      expect(plain).toHaveLength(3);
      expect(Object.keys(plain[0] as object).sort()).toEqual(['nu']);
      expect(plain[2]).toEqual({});
      const centered = stateOf(rmsprop(0.1, { centered: true, momentum: 0.5 }));
      expect(Object.keys(centered[0] as object).sort()).toEqual(['mu', 'nu']);
      expect(Object.keys(centered[2] as object)).toEqual(['trace']);
    });
  });

  it('adafactor adds each step only when enabled', async () => {
    await expectNoLeaks(() => {
      // factored rms, clip, param-block rms, scale(-1)
      expect(stateOf(adafactor())).toHaveLength(4);
      // + learning rate, momentum, weight decay
      expect(stateOf(adafactor(0.1, { momentum: 0.9, weightDecayRate: 0.01 }))).toHaveLength(7);
      // factored rms, scale(-1)
      expect(stateOf(adafactor(undefined, { clippingThreshold: null, multiplyByParameterScale: false }))).toHaveLength(2);
    });
  });

  it('nadam and nadamw are adam and adamw with nesterov on by default', async () => {
    await expectNoLeaks(() => {
      expectSteps(threeSteps(nadam(0.05, { b1: 0.8 })), threeSteps(adam(0.05, { b1: 0.8, nesterov: true })) as never, { rtol: 0, atol: 0 });
      expectSteps(threeSteps(nadam(0.1, { nesterov: false })), OPTAX.adam as { w: number[]; b: number[] }[]);
      expectSteps(threeSteps(adamw(0.05, { b1: 0.8, weightDecay: 0.01, nesterov: true })), OPTAX.nadamw as { w: number[]; b: number[] }[]);
    });
  });

  it('adabelief adds decoupled weight decay only when weightDecay is given (a gradtx extension)', async () => {
    // optax 0.2.8 (same params and gradients):
    //   optax.chain(optax.scale_by_belief(),
    //               optax.add_decayed_weights(0.1, mask={'w': True, 'b': False}),
    //               optax.scale_by_learning_rate(0.1))
    const want = [
      {
        w: [-0.11611036, 0.12111038, -0.13111039, 0.09611037, -0.11361038, -0.103610374],
        b: [-0.11111038, 0.11111038, -0.11111037],
      },
      {
        w: [-0.046846863, -0.044518568, -0.13037537, 0.004366198, -0.05211198, -0.07986497],
        b: [-0.08672655, -0.06522822, -0.020327302],
      },
      { w: [-0.081346, -0.03188754, -0.010337679, -0.0231399, -0.06813887, -0.035276618], b: [-0.046369046, -0.0856583, -0.027090652] },
    ];
    await expectNoLeaks(() => {
      expectSteps(threeSteps(adabelief(0.1, { weightDecay: 0.1, weightDecayMask: { w: true, b: false } })), want);
      expect(stateOf(adabelief(0.1))).toHaveLength(2);
      expect(stateOf(adabelief(0.1, { weightDecay: 0 }))).toHaveLength(3);
    });
  });

  it('adadelta with a learning rate of 1 is the negated adadelta without one', async () => {
    await expectNoLeaks(() => {
      const neg = (OPTAX.adadeltaNoLr as { w: number[]; b: number[] }[]).map((u) => ({ w: u.w.map((x) => -x), b: u.b.map((x) => -x) }));
      expectSteps(threeSteps(adadelta(1)), neg);
    });
  });
});

/** Every alias, for the checks that apply to all of them. */
const ALL: Record<string, (lr: any) => GradientTransformation> = {
  adam: (lr) => adam(lr),
  adamw: (lr) => adamw(lr),
  nadam: (lr) => nadam(lr),
  nadamw: (lr) => nadamw(lr),
  amsgrad: (lr) => amsgrad(lr),
  adamax: (lr) => adamax(lr),
  adamaxw: (lr) => adamaxw(lr),
  radam: (lr) => radam(lr),
  adabelief: (lr) => adabelief(lr),
  yogi: (lr) => yogi(lr),
  novograd: (lr) => novograd(lr),
  lion: (lr) => lion(lr),
  lamb: (lr) => lamb(lr),
  lars: (lr) => lars(lr),
  fromage: (lr) => fromage(lr),
  sgd: (lr) => sgd(lr, { momentum: 0.9 }),
  signSgd: (lr) => signSgd(lr),
  signum: (lr) => signum(lr),
  noisySgd: (lr) => noisySgd(lr),
  optimisticGradientDescent: (lr) => optimisticGradientDescent(lr),
  rmsprop: (lr) => rmsprop(lr, { centered: true, momentum: 0.9 }),
  adagrad: (lr) => adagrad(lr),
  adadelta: (lr) => adadelta(lr, { weightDecay: 0.01 }),
  adafactor: (lr) => adafactor(lr, { minDimSizeToFactor: 2, momentum: 0.9, weightDecayRate: 0.01 }),
  sm3: (lr) => sm3(lr),
  rprop: (lr) => rprop(lr),
};

describe('every alias', () => {
  for (const [name, make] of Object.entries(ALL)) {
    it(`${name}: runs three steps without leaking and leaves its inputs intact`, async () => {
      await expectNoLeaks(() => {
        const params = tensors(P0);
        const grads = tensors(GRADS[0] as { w: number[][]; b: number[] });
        const paramsBefore = toArrays(params);
        const gradsBefore = toArrays(grads);
        const tx = make(0.01);
        const s0 = tx.init(params);
        const s0Before = toArrays(s0);
        const [u1, s1] = tx.update(grads, s0, params);
        const [u2, s2] = tx.update(grads, s1, params);
        const [u3, s3] = tx.update(grads, s2, params);
        expect(toArrays(s0)).toEqual(s0Before);
        expect(toArrays(grads)).toEqual(gradsBefore);
        expect(toArrays(params)).toEqual(paramsBefore);
        const last = toArrays(u3) as { w: number[][]; b: number[] };
        expect([...last.w.flat(), ...last.b].every(Number.isFinite), 'finite updates').toBe(true);
        return [params, grads, s0, u1, s1, u2, s2, u3, s3];
      });
    });

    it(`${name}: rejects a negative, NaN or infinite learning rate, naming it`, () => {
      expect(() => make(-0.1)).toThrow(new RegExp(`^${name}: \`learningRate\` .*-0\\.1`));
      expect(() => make(Number.NaN)).toThrow(new RegExp(`^${name}: \`learningRate\` .*NaN`));
      expect(() => make(Number.POSITIVE_INFINITY)).toThrow(new RegExp(`^${name}: \`learningRate\` .*Infinity`));
    });
  }
});
