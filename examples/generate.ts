/**
 * Writes the example private dataset: patient questions to a FICTIONAL clinic, answered
 * from facts this file invents (drug names, dosing tables, clinic policies). Nothing here
 * is taken from real patients, real drugs or third-party text, so the files can ship in
 * the repository and still look like what a data owner would upload.
 *
 *   npx tsx examples/generate.ts [--out examples/clinic-qa] [--train 48] [--test 8] [--seed 7]
 *
 * The output is a pure function of the arguments (seeded PRNG), so regenerating the
 * committed files reproduces them byte for byte.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
// The pipeline's own seeded PRNG (mulberry32), so the examples draw from the same generator.
import { mulberry32 as prng } from '../core/selection/index.js';

export interface InstructionRecord {
  instruction: string;
  input: string;
  output: string;
}

export interface SeedPrompt {
  id: string;
  prompt: string;
}

const CLINIC = 'Larkspur Valley Clinic';

/** Invented medicines with an invented label: adult dose, interval, daily maximum, a caution. */
const DRUGS = [
  {
    name: 'Veltranol',
    use: 'seasonal allergies',
    dose: '10 mg',
    every: 24,
    max: '10 mg',
    caution: 'it can make you drowsy, so avoid driving until you know how it affects you',
  },
  {
    name: 'Oxiprane',
    use: 'mild to moderate pain',
    dose: '250 mg',
    every: 6,
    max: '1000 mg',
    caution: 'take it with food to protect your stomach',
  },
  {
    name: 'Dulcamorin',
    use: 'acid reflux',
    dose: '20 mg',
    every: 12,
    max: '40 mg',
    caution: 'take it thirty minutes before a meal',
  },
  {
    name: 'Fenzitrel',
    use: 'high blood pressure',
    dose: '5 mg',
    every: 24,
    max: '10 mg',
    caution: 'stand up slowly, because it can make you light-headed',
  },
  {
    name: 'Corvadine',
    use: 'a dry cough',
    dose: '15 ml',
    every: 8,
    max: '45 ml',
    caution: 'do not combine it with other cough syrups',
  },
  {
    name: 'Minestrol',
    use: 'trouble sleeping',
    dose: '3 mg',
    every: 24,
    max: '3 mg',
    caution: 'take it only at bedtime and not for more than two weeks',
  },
] as const;

/** Invented clinic policies, one fact each. */
const POLICIES = [
  {
    topic: 'prescription refills',
    fact: 'refill requests sent through the patient portal are ready for pickup within two working days',
  },
  {
    topic: 'fasting before a blood test',
    fact: 'patients should not eat for ten hours before a fasting blood test, but may drink plain water',
  },
  {
    topic: 'missed appointments',
    fact: 'an appointment missed without a call 24 hours ahead is rebooked at the next open slot, with no fee for the first miss',
  },
  { topic: 'weekend care', fact: 'the Saturday walk-in hours are 9 am to 1 pm at the north entrance' },
  {
    topic: 'test results',
    fact: 'results appear in the patient portal within five working days and a nurse calls if anything needs follow-up',
  },
  {
    topic: 'new patient visits',
    fact: 'new patients should arrive fifteen minutes early with a photo ID and a list of current medicines',
  },
  {
    topic: 'flu shots',
    fact: 'flu shots are given without an appointment on Tuesday and Thursday afternoons from October to December',
  },
  {
    topic: 'medical records',
    fact: 'a copy of your records can be requested at the front desk and is ready within seven days',
  },
] as const;

const PATIENTS = [
  'I',
  'My father',
  'My mother',
  'My husband',
  'My wife',
  'My son',
  'My daughter',
  'My grandmother',
] as const;
const SYMPTOMS = [
  'a headache',
  'a sore back',
  'sneezing every morning',
  'heartburn after dinner',
  'a tickly cough at night',
  'trouble falling asleep',
] as const;

const pick = <T>(rand: () => number, items: readonly T[]): T => items[Math.floor(rand() * items.length)]!;

type Template = (rand: () => number) => InstructionRecord;

const templates: Template[] = [
  (rand) => {
    const d = pick(rand, DRUGS);
    const who = pick(rand, PATIENTS);
    return {
      instruction: `How much ${d.name} should an adult take?`,
      input: `${who} was prescribed ${d.name} at the ${CLINIC} for ${d.use}.`,
      output: `The usual adult dose of ${d.name} is ${d.dose} every ${d.every} hours, and no more than ${d.max} in a day. Also, ${d.caution}.`,
    };
  },
  (rand) => {
    const d = pick(rand, DRUGS);
    return {
      instruction: `What is ${d.name} used for?`,
      input: '',
      output: `At the ${CLINIC}, ${d.name} is prescribed for ${d.use}. The usual adult dose is ${d.dose}; ${d.caution}.`,
    };
  },
  (rand) => {
    const d = pick(rand, DRUGS);
    const hours = d.every + 1 + Math.floor(rand() * 3);
    return {
      instruction: `I forgot a dose of ${d.name}. What should I do?`,
      input: `It has been ${hours} hours since the last dose.`,
      output: `Take the next ${d.dose} dose now and go back to one dose every ${d.every} hours. Never take two doses together, and stay under ${d.max} a day.`,
    };
  },
  (rand) => {
    const p = pick(rand, POLICIES);
    return {
      instruction: `What is the clinic's policy on ${p.topic}?`,
      input: '',
      output: `At the ${CLINIC}, ${p.fact}.`,
    };
  },
  (rand) => {
    const p = pick(rand, POLICIES);
    const who = pick(rand, PATIENTS);
    return {
      instruction: `Can you help with a question about ${p.topic}?`,
      input: `${who} has a visit at the ${CLINIC} next week.`,
      output: `Yes. At the ${CLINIC}, ${p.fact}. Call the front desk if anything is unclear.`,
    };
  },
  (rand) => {
    const symptom = pick(rand, SYMPTOMS);
    const d = DRUGS[SYMPTOMS.indexOf(symptom as (typeof SYMPTOMS)[number])]!;
    const who = pick(rand, PATIENTS);
    return {
      instruction: 'Which medicine does the clinic usually suggest for this?',
      input: `${who} has had ${symptom} for a few days.`,
      output: `For ${d.use} the ${CLINIC} usually suggests ${d.name}, ${d.dose} every ${d.every} hours. If it lasts more than a week, book a visit.`,
    };
  },
];

/** Public prompts the owner may share: generic, written independently of any record. */
const PUBLIC_SEEDS = [
  'What should I bring to my first visit to a family doctor?',
  'How do I ask my clinic for a prescription refill?',
  'Is it safe to drink water before a fasting blood test?',
  'What should I do if I miss a dose of my medicine?',
  'How long does it usually take to get blood test results?',
  'When is the best time of year to get a flu shot?',
  'How can I get a copy of my medical records?',
  'What questions should I ask about a new prescription?',
];

/** `count` distinct records (by instruction + input), drawn from the templates with `rand`. */
export function generateRecords(rand: () => number, count: number, exclude = new Set<string>()): InstructionRecord[] {
  const out: InstructionRecord[] = [];
  const seen = new Set(exclude);
  for (let attempts = 0; out.length < count; attempts += 1) {
    if (attempts > count * 200)
      throw new Error(`could only make ${out.length} distinct records of the ${count} asked for`);
    const record = pick(rand, templates)(rand);
    const key = `${record.instruction}\n${record.input}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(record);
  }
  return out;
}

export function generateExample(options: { seed: number; train: number; test: number; seeds: number }) {
  const rand = prng(options.seed);
  const train = generateRecords(rand, options.train);
  const trainKeys = new Set(train.map((r) => `${r.instruction}\n${r.input}`));
  const test = generateRecords(rand, options.test, trainKeys);
  if (options.seeds > PUBLIC_SEEDS.length) throw new Error(`at most ${PUBLIC_SEEDS.length} public seeds`);
  const seeds: SeedPrompt[] = PUBLIC_SEEDS.slice(0, options.seeds).map((prompt, i) => ({
    id: `seed-${i + 1}`,
    prompt,
  }));
  return { train, test, seeds };
}

const jsonl = (records: unknown[]) => `${records.map((r) => JSON.stringify(r)).join('\n')}\n`;

export function writeExample(outDir: string, options: { seed: number; train: number; test: number; seeds: number }) {
  const { train, test, seeds } = generateExample(options);
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'train.jsonl'), jsonl(train));
  writeFileSync(join(outDir, 'test.jsonl'), jsonl(test));
  writeFileSync(join(outDir, 'seeds.jsonl'), jsonl(seeds));
  return { train: train.length, test: test.length, seeds: seeds.length };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      out: { type: 'string', default: 'examples/clinic-qa' },
      train: { type: 'string', default: '48' },
      test: { type: 'string', default: '8' },
      seeds: { type: 'string', default: '6' },
      seed: { type: 'string', default: '7' },
    },
  });
  const counts = writeExample(values.out, {
    seed: Number(values.seed),
    train: Number(values.train),
    test: Number(values.test),
    seeds: Number(values.seeds),
  });
  console.log(`wrote ${counts.train} train, ${counts.test} test and ${counts.seeds} seed records to ${values.out}`);
}
