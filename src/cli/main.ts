// `context-budget` — the headless CLI over the core. A thin shell: parse
// arguments, call the engine, print. Bad input is one clear line on stderr and
// exit code 2; never a stack trace.
import { runCost } from './commands/cost';
import { runIndex, runPack, runRank, runReport } from './commands/context';
import { EngineError } from '../core/engine';
import { UsageError, type CliIO } from './io';

const HELP = `context-budget — what the context you would send to an LLM costs, and the best context for your budget.

Usage: context-budget <command> [options]

Commands:
  report [FILE:LINE]   human table: budget, selected and dropped chunks, cost
  rank                 ranked chunks for a cursor as JSON (the stable contract)
  pack                 print the packed prompt (--format md|xml|json)
  cost                 cost of a context window for a model and hardware profile
  index                index statistics: files, chunks, tokens, skipped by reason

Run 'context-budget <command> --help' for the options of each.
Everything runs locally; nothing of your code leaves the machine.`;

export async function main(argv: string[], io: CliIO): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'report':
        return await runReport(rest, io);
      case 'rank':
        return await runRank(rest, io);
      case 'pack':
        return await runPack(rest, io);
      case 'cost':
        return await runCost(rest, io);
      case 'index':
        return await runIndex(rest, io);
      case undefined:
      case '--help':
      case '-h':
      case 'help':
        io.stdout(HELP + '\n');
        return command === undefined ? 2 : 0;
      case '--version':
        io.stdout('0.1.0\n');
        return 0;
      default:
        throw new UsageError(`unknown command '${command}' (try --help)`);
    }
  } catch (err) {
    io.stderr(`context-budget: ${errorMessage(err)}\n`);
    return err instanceof UsageError || err instanceof EngineError ? 2 : 1;
  }
}

function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

if (require.main === module) {
  const io: CliIO = {
    stdout: (s) => process.stdout.write(s),
    stderr: (s) => process.stderr.write(s),
    isTTY: Boolean(process.stderr.isTTY),
  };
  main(process.argv.slice(2), io).then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      process.stderr.write(`context-budget: ${errorMessage(err)}\n`);
      process.exitCode = 1;
    },
  );
}
