// The demo's capital-city agent, shared by examples/assay.config.mjs (as code targets) and
// examples/http-agent.mjs (the same agent behind HTTP). Offline and deterministic: the same question
// always gets the same answer, the same latency and the same (estimated) usage.

export const sleep = (ms, signal) =>
  new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(signal.reason);
    });
  });

/** A stable number in [0, 1) for a string (FNV-1a), so "random" latencies repeat run after run. */
const unit = (s) => {
  let h = 0x811c9dc5;
  for (const ch of s) h = Math.imul(h ^ ch.codePointAt(0), 0x01000193) >>> 0;
  return h / 2 ** 32;
};

// What v1 "knows": a lookup table with honest mistakes — the famous wrong guesses (Sydney,
// Istanbul, Lagos…), accents dropped (Brasilia, Bogota), a few chatty answers, and gaps.
const V1 = {
  France: 'Paris',
  Germany: 'Berlin',
  Italy: 'Rome',
  Spain: 'Madrid',
  Portugal: 'Lisbon',
  Netherlands: 'Amsterdam',
  Belgium: 'Brussels',
  Switzerland: 'Bern',
  Austria: 'Vienna',
  Poland: 'Warsaw',
  Sweden: 'Stockholm',
  Norway: 'Oslo',
  Finland: 'Helsinki',
  Denmark: 'Copenhagen',
  Ireland: 'Dublin',
  Greece: 'Athens',
  Hungary: 'Budapest',
  'Czech Republic': 'Prague',
  Romania: 'Bucharest',
  Turkey: 'Istanbul',
  Japan: 'Tokyo',
  China: 'Beijing',
  India: 'New Delhi',
  'South Korea': 'Seoul',
  Vietnam: 'Hanoi',
  Thailand: 'Bangkok',
  Indonesia: 'Jakarta',
  Philippines: 'Manila',
  Pakistan: 'Islamabad',
  Kazakhstan: 'Almaty',
  Myanmar: 'Yangon',
  Malaysia: 'Kuala Lumpur',
  'Saudi Arabia': 'Riyadh',
  Iran: 'Tehran',
  Nepal: 'Kathmandu',
  Kenya: 'Nairobi',
  Nigeria: 'Lagos',
  Egypt: 'Cairo',
  Morocco: 'Rabat',
  Ethiopia: 'Addis Ababa',
  Ghana: 'Accra',
  Tanzania: 'Dar es Salaam',
  Senegal: 'Dakar',
  Algeria: 'Algiers',
  Uganda: 'Kampala',
  "Côte d'Ivoire": 'Abidjan',
  Canada: 'The capital of Canada is Ottawa.',
  'United States': 'Washington, D.C. (the District of Columbia)',
  Mexico: 'Mexico City',
  Brazil: 'Brasilia',
  Argentina: 'Buenos Aires',
  Chile: 'Santiago',
  Peru: 'Lima',
  Colombia: 'Bogota',
  Venezuela: 'Caracas',
  Cuba: 'Havana',
  Ecuador: 'Quito',
  Uruguay: 'Montevideo',
  Jamaica: 'Kingston',
  Australia: 'Sydney',
  'New Zealand': "It's Wellington.",
  // Mongolia, Fiji and Papua New Guinea: v1 does not know.
};

// v2 looks answers up in a (simulated) reference before answering: it fixes most of v1's mistakes
// and always answers tersely, but it is slower, costs more tokens and brings two regressions.
const V2 = {
  ...V1,
  Turkey: 'Ankara',
  Kazakhstan: 'Astana',
  Nigeria: 'Abuja',
  Tanzania: 'Dodoma',
  Australia: 'Canberra',
  Canada: 'Ottawa',
  'United States': 'Washington, D.C.',
  Brazil: 'Brasília',
  Colombia: 'Bogotá',
  'New Zealand': 'Wellington',
  Mongolia: 'Ulaanbaatar',
  Fiji: 'Suva',
  Switzerland: 'Geneva', // regression
  Morocco: 'Casablanca', // regression
};

const countries = Object.keys(V2).sort((a, b) => b.length - a.length); // longest first: "Papua New Guinea" before "Guinea"
const countryIn = (question) => countries.find((c) => String(question ?? '').includes(c));
const tokens = (s) => Math.ceil(String(s).length / 4);
// The demo agents report estimated usage (4 characters a token) at these made-up prices, so the
// usage columns show something; a `model` target reports the provider's real token counts.
const PRICE = { v1: { input: 0.15, output: 0.6 }, v2: { input: 0.5, output: 1.5 } }; // USD per million tokens

const LATENCY = { v1: (u) => 40 + u * 100, v2: (u) => 120 + u * 140 }; // ms

/** What agent `version` ('v1' or 'v2') answers to `question`, how long it takes, and its usage. */
export function answer(version, question) {
  const q = String(question ?? '');
  const table = version === 'v2' ? V2 : V1;
  const country = countryIn(q);
  const text = (country && table[country]) ?? "I don't know";
  const inputTokens = 40 + tokens(q) + (version === 'v2' ? 320 : 0); // v2 adds retrieved passages
  const outputTokens = tokens(text) + (version === 'v2' ? 24 : 0);
  const price = PRICE[version];
  return {
    answer: text,
    latencyMs: LATENCY[version](unit(`${version}:${q}`)),
    usage: { inputTokens, outputTokens, costUsd: (inputTokens * price.input + outputTokens * price.output) / 1e6 },
  };
}
