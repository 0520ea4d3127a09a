/**
 * The `config-wizard` dialogue: one question per key, section by section, the value in effect
 * in brackets. An empty answer keeps it; an answer that does not fit is explained and the
 * question asked again, and a section whose answers do not fit together is asked again as a
 * whole; the end of the input before the last answer aborts (nothing is
 * written from half a dialogue). The result sets only the keys that differ from the defaults.
 *
 * @module
 */

import { prefix } from "../format.ts";
import { BadInputError } from "../errors.ts";
import {
  CONFIG_KEYS,
  type ConfigKey,
  type ConfigSections,
  type ConfigValue,
  emptySections,
  parseValue,
  SECTION_HELP,
  SECTIONS,
  showValue,
  valueOf,
} from "./keys.ts";
import { checkSections, mergeSections } from "./edit.ts";

/** Where the dialogue talks and listens. */
export interface WizardIO {
  /** Shows a prompt or a remark (the CLI writes it on stderr, keeping stdout for results). */
  say(text: string): void;
  /** The next answer, without its line end; null at the end of the input. */
  answer(): Promise<string | null>;
}

function question(key: ConfigKey, sections: ConfigSections): string {
  const options = key.kind === "choice"
    ? ` (${key.choices.join(" | ")})`
    : key.kind === "boolean"
    ? " (true | false)"
    : "";
  // Unquoted: the answer is typed without quotes too.
  const show = (v: ConfigValue): string => typeof v === "string" ? v : showValue(key, v);
  const current = valueOf(sections, key);
  const def = current === key.defaultValue ? "" : `, default ${show(key.defaultValue)}`;
  return `${key.name}: ${key.help}${options}${def} [${show(current)}]: `;
}

/** `sections` reduced to the keys whose value differs from the default. */
function nonDefault(sections: ConfigSections): ConfigSections {
  const out = emptySections();
  for (const key of CONFIG_KEYS) {
    const v = valueOf(sections, key);
    if (v !== key.defaultValue) out[key.section][key.name] = v;
  }
  return out;
}

/** Asks for every key, starting from `start`; resolves to the keys that differ from defaults. */
export async function runWizard(io: WizardIO, start: ConfigSections): Promise<ConfigSections> {
  io.say(
    "config-wizard: one question per key (docs/config.md). Enter keeps the value in " +
      "[brackets].\n",
  );
  let current = mergeSections(emptySections(), start);
  let answered = 0;
  for (const section of SECTIONS) {
    io.say(`\n[${section}] ${SECTION_HELP[section]}\n`);
    const keys = CONFIG_KEYS.filter((k) => k.section === section);
    // Keys limit each other (initial_buckets x groups_per_bucket), so a section is checked as a
    // whole once all of its answers are in, and asked again, current answers kept, if it fails.
    const proposed = mergeSections(current, emptySections()); // kept across rounds
    for (;;) {
      for (const [i, key] of keys.entries()) {
        for (;;) {
          io.say(question(key, proposed));
          const line = await io.answer();
          if (line === null) {
            io.say("\n");
            throw new BadInputError(
              `config-wizard: the input ended before '${key.id}' was answered (${
                answered + i
              } of ` +
                `${CONFIG_KEYS.length} keys answered); nothing was written`,
              { hint: "Answer every question; an empty line keeps the value in [brackets]" },
            );
          }
          if (line.trim() === "") break;
          const parsed = parseValue(key, line);
          if (parsed.ok) {
            proposed[key.section][key.name] = parsed.value;
            break;
          }
          io.say(`  ${JSON.stringify(line.trim())} does not fit ${key.id}: ${parsed.problem}\n`);
        }
      }
      try {
        await checkSections(proposed);
        current = proposed;
        answered += keys.length;
        break;
      } catch (err) {
        if (!(err instanceof BadInputError)) throw err;
        io.say(`  These [${section}] answers do not fit together: ${err.message}\n`);
        io.say(`  [${section}] again; Enter keeps your answer.\n`);
      }
    }
  }
  return nonDefault(current);
}

/**
 * The longest answer line, in characters. A useful answer is a few dozen; the bound keeps input
 * without line ends from being gathered whole, and searched again after every chunk.
 */
export const MAX_ANSWER_CHARS = 4096;

/**
 * The lines of `stream` (UTF-8), without `\n` or `\r\n`; a last unterminated line counts. A
 * line longer than `maxChars` is BadInput as soon as that much of it has come.
 */
export async function* readLines(
  stream: ReadableStream<Uint8Array>,
  maxChars: number = MAX_ANSWER_CHARS,
): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buffered = "";
  let line = 1;
  const tooLong = (): BadInputError =>
    new BadInputError(
      `config-wizard: answer line ${line} is longer than ${maxChars} characters ` +
        `(it starts ${JSON.stringify(prefix(buffered, 40))}); nothing was written`,
      { hint: "Answer each question on one line: a number, true or false, or a choice" },
    );
  for await (const chunk of stream) {
    let from = buffered.length; // what came before holds no line end
    buffered += decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = buffered.indexOf("\n", from)) >= 0) {
      const text = buffered.slice(0, nl).replace(/\r$/, "");
      if (text.length > maxChars) throw tooLong();
      yield text;
      line++;
      buffered = buffered.slice(nl + 1);
      from = 0;
    }
    if (buffered.length > maxChars + 1) throw tooLong(); // one more may be a CRLF's CR
  }
  buffered += decoder.decode();
  if (buffered.length > maxChars) throw tooLong();
  if (buffered !== "") yield buffered;
}
