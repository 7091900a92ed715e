/** The hpc-submit command line, parsed without a process: what each line becomes, or why not. */
import { numberOption, parseCommandLine, UsageError } from '../../server/cli/argv';
import { HANDLERS } from '../../server/cli/commands';
import { helpFor } from '../../server/cli/help';
import { COMMANDS, type CommandName } from '../../server/cli/options';

/** The UsageError a line is refused with; fails the test when it is accepted or fails otherwise. */
function refusal(argv: string[]): UsageError {
  try {
    parseCommandLine(argv);
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    return e as UsageError;
  }
  throw new Error(`accepted: ${argv.join(' ')}`);
}

describe('parseCommandLine', () => {
  it('reads a run line: its notebook, options, parameters and sweep in order', () => {
    const inv = parseCommandLine([
      'run',
      'nbs/train.ipynb',
      '--profile',
      'cpu',
      '-p',
      'lr',
      '0.1',
      '--sweep',
      'seed',
      '[1, 2]',
      '-y',
      'epochs: 3',
      '--wait',
      '--state-dir',
      '/tmp/state'
    ]);
    expect(inv.command).toBe('run');
    expect(inv.args).toEqual(['nbs/train.ipynb']);
    expect(inv.values).toMatchObject({
      profile: 'cpu',
      'parameters-yaml': ['epochs: 3'],
      wait: true,
      'state-dir': '/tmp/state'
    });
    expect(inv.pairs).toEqual([
      expect.objectContaining({ option: 'parameters', flag: '-p', name: 'lr', value: '0.1' }),
      expect.objectContaining({ option: 'sweep', flag: '--sweep', name: 'seed', value: '[1, 2]' })
    ]);
  });

  it('refuses an unknown option, naming it and its command', () => {
    const e = refusal(['run', 'nb.ipynb', '--bogus']);
    expect(e.message).toBe('run: unknown option --bogus');
    expect(e.command).toBe('run');
  });

  it("refuses another command's option", () => {
    const e = refusal(['list', '--follow']);
    expect(e.message).toBe('list: unknown option --follow');
    expect(e.command).toBe('list');
  });

  it('refuses an unknown command', () => {
    const e = refusal(['frobnicate']);
    expect(e.message).toBe('unknown command frobnicate');
    expect(e.command).toBeUndefined();
  });

  it('refuses a missing argument, naming it', () => {
    const e = refusal(['run']);
    expect(e.message).toBe('run: missing NOTEBOOK');
    expect(e.command).toBe('run');
    expect(refusal(['logs', '--follow']).message).toBe('logs: missing ID');
  });

  it('refuses an argument too many, and an option without its value', () => {
    expect(refusal(['status', 'a', 'b']).message).toBe('status: unexpected argument b');
    expect(refusal(['run', 'nb.ipynb', '--profile']).message).toBe('run: --profile needs a value');
  });

  it('turns --help into the help command, for the whole CLI or one command', () => {
    expect(parseCommandLine(['--help'])).toMatchObject({ command: 'help', args: [] });
    expect(parseCommandLine([])).toMatchObject({ command: 'help', args: [] });
    // Even with options the command does not know: help never refuses.
    expect(parseCommandLine(['run', '-h', '--tasks'])).toMatchObject({
      command: 'help',
      args: ['run']
    });
    expect(parseCommandLine(['help', 'logs'])).toMatchObject({ command: 'help', args: ['logs'] });
  });

  it('reads --version alone, and --help wins over it', () => {
    expect(parseCommandLine(['--version']).command).toBe('version');
    expect(parseCommandLine(['--version', '--help']).command).toBe('help');
    expect(refusal(['--tasks']).message).toBe('unknown option --tasks');
  });
});

describe('numberOption', () => {
  it('reads a number in range, and refuses one outside it', () => {
    const port = (text: string) =>
      numberOption(parseCommandLine(['serve', '--port', text]), 'port', {
        min: 0,
        max: 65535,
        integer: true
      });
    expect(port('8080')).toBe(8080);
    expect(() => port('65536')).toThrow('--port must be a whole number 0..65535, not 65536');
    expect(() => port('1.5')).toThrow(UsageError);
  });
});

describe('the command table', () => {
  it('knows only its own commands, not the words every object answers to', () => {
    for (const word of ['toString', 'constructor', '__proto__', 'hasOwnProperty']) {
      expect(refusal([word]).message).toBe(`unknown command ${word}`);
      expect(() => helpFor(word)).toThrow(`unknown command ${word}`);
    }
  });

  it('says "starts a companion" of exactly the commands whose handler talks to one', () => {
    for (const name of Object.keys(COMMANDS) as CommandName[]) {
      const handler = HANDLERS[name];
      expect([name, COMMANDS[name].companion]).toEqual([name, handler.withCompanion !== undefined]);
      expect([name, handler.local !== undefined]).toEqual([name, !COMMANDS[name].companion]);
    }
  });
});
