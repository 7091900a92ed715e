/**
 * The options of hpc-submit and of each of its commands: data only, read by
 * the parser (argv.ts), the help (help.ts) and the commands (commands.ts).
 */

export interface Option {
  type: 'string' | 'boolean';
  short?: string;
  /** The value's name in the help, for a string option. */
  value?: string;
  /** Repeatable: every value is kept, in order. */
  multiple?: boolean;
  /** Takes two values (`-p NAME VALUE`), which parseArgs cannot: taken out of the line first. */
  pair?: boolean;
  help: string;
}
export type Options = Record<string, Option>;

/** A command as the parser and the help know it; what it does is in commands.ts. */
export interface Command {
  /** Positional arguments; a name in brackets is optional. */
  args: string[];
  /** Talks to the companion, found or started in the background; else runs without one (help, serve, doctor). */
  companion: boolean;
  summary: string;
  options: Options;
}

const HELP: Options = { help: { type: 'boolean', short: 'h', help: 'show this help' } };

export const TOP_LEVEL: Options = {
  ...HELP,
  version: { type: 'boolean', help: 'print the version' }
};

export const STATE: Options = {
  'state-dir': {
    type: 'string',
    value: 'DIR',
    help: "jobs, logs and the companion's files (default: $HPC_SUBMIT_STATE_DIR, else $XDG_DATA_HOME/jupyterlab-hpc-submit)"
  },
  'root-dir': {
    type: 'string',
    value: 'DIR',
    help: "the root of a companion started here (default: the current folder, or for run the notebook's folder when the current one does not hold it)"
  },
  profiles: {
    type: 'string',
    value: 'FILE',
    help: "resource profiles, JSON (default: $HPC_SUBMIT_PROFILES, else hpc_submit/profiles.json in Jupyter's config directories, else the built-in gpu and cpu)"
  },
  'config-path': {
    type: 'string',
    value: 'DIRS',
    help: "Jupyter's config directories, highest priority first, joined by ':' (default: $HPC_SUBMIT_CONFIG_PATH; the Python side passes jupyter_core's)"
  },
  executor: {
    type: 'string',
    value: 'MODE',
    help: 'auto, slurm or local (default: $HPC_SUBMIT_EXECUTOR, else auto: Slurm when sbatch is on PATH)'
  }
};

// papermill's own options and their meaning (parameterArgs.ts), and the sweep's.
/** What a notebook runs with: the site's hardware, and an environment of its pixi project. */
const CHOICE: Options = {
  profile: { type: 'string', value: 'ID', help: 'resource profile (default: gpu)' },
  environment: {
    type: 'string',
    short: 'e',
    value: 'ENV',
    help: "an environment of the notebook's pixi project, run on the profile's hardware"
  }
};

const PARAMETERS: Options = {
  parameters: {
    type: 'string',
    short: 'p',
    pair: true,
    value: 'NAME VALUE',
    help: "a parameter, as papermill's -p reads it: True, False, None, a number, else text (repeatable)"
  },
  'parameters-yaml': {
    type: 'string',
    short: 'y',
    multiple: true,
    value: 'YAML',
    help: "parameters as YAML, as papermill's -y: 'lr: 0.1' (repeatable; -p wins)"
  },
  sweep: {
    type: 'string',
    pair: true,
    value: 'NAME VALUES',
    help: "one run per value of the YAML list VALUES, '[0.1, 0.01]'; with several, one per combination"
  },
  zip: {
    type: 'boolean',
    help: 'with several --sweep: the i-th value of each (lists of one length), not every combination'
  },
  'max-parallel': {
    type: 'string',
    value: 'K',
    help: "at most K runs of the sweep at once (the profile's limit caps it)"
  },
  'allow-unknown-parameters': {
    type: 'boolean',
    help: "send parameters that the notebook's cell tagged parameters does not define"
  }
};

export const COMMANDS = {
  run: {
    args: ['NOTEBOOK'],
    companion: true,
    summary:
      "submit a notebook, with parameters or as a sweep of runs; prints the job's (or sweep's) id",
    options: {
      ...CHOICE,
      ...PARAMETERS,
      wait: {
        type: 'boolean',
        help: 'wait until the job ends (a sweep: all its runs); exit status 0 only when all completed'
      },
      ...STATE,
      ...HELP
    }
  },
  pipeline: {
    args: ['FILE'],
    companion: true,
    summary:
      "submit a pipeline file's steps at once, each after the steps it comes after; prints the pipeline's id",
    options: {
      wait: {
        type: 'boolean',
        help: 'wait until every step ended; exit status 0 only when all completed'
      },
      ...STATE,
      ...HELP
    }
  },
  list: {
    args: [],
    companion: true,
    summary: 'list the jobs, newest first; a sweep and a pipeline as one line each',
    options: {
      tasks: { type: 'boolean', help: "show each sweep's runs and each pipeline's steps below it" },
      ...STATE,
      ...HELP
    }
  },
  status: {
    args: ['ID'],
    companion: true,
    summary:
      "show one job in full, as JSON; for a sweep's id, its runs with their parameters; for a pipeline's, its steps",
    options: { ...STATE, ...HELP }
  },
  results: {
    args: ['ID|NOTEBOOK'],
    companion: true,
    summary:
      "a sweep's runs (or a notebook's) with their parameters and recorded values, as a table",
    options: {
      sort: {
        type: 'string',
        value: 'COLUMN',
        help: 'sort by this column, smallest first; --sort=-COLUMN sorts largest first'
      },
      csv: { type: 'boolean', help: 'print CSV, as summary.csv is written' },
      json: { type: 'boolean', help: 'print JSON: one object per run' },
      ...STATE,
      ...HELP
    }
  },
  logs: {
    args: ['ID'],
    companion: true,
    summary: "print a job's log",
    options: {
      follow: { type: 'boolean', help: 'keep printing until the job ends' },
      ...STATE,
      ...HELP
    }
  },
  cancel: {
    args: ['ID'],
    companion: true,
    summary: "cancel a queued or running job; for a sweep's or a pipeline's id, all its runs",
    options: { ...STATE, ...HELP }
  },
  schedule: {
    args: ['ACTION', '[TARGET]'],
    companion: true,
    summary:
      'run a notebook or a pipeline at set times, as your scrontab entry (Slurm): schedule add FILE --when WHEN, schedule list, schedule pause|resume|remove ID',
    options: {
      when: {
        type: 'string',
        value: 'WHEN',
        help: "for add: five cron fields, '0 2 * * *', or hourly, nightly (02:00) or weekly (Monday 02:00)"
      },
      ...CHOICE,
      ...PARAMETERS,
      ...STATE,
      ...HELP
    }
  },
  scheduled: {
    args: ['ID'],
    companion: true,
    summary: "submit what schedule ID runs, now: the command of the schedule's scrontab entry",
    options: { ...STATE, ...HELP }
  },
  doctor: {
    args: [],
    companion: false,
    summary: 'check what a run needs here, and say how to fix each problem',
    options: { ...STATE, ...HELP }
  },
  serve: {
    args: [],
    companion: false,
    summary: 'run the companion (the API of the extension and the CLI) in the foreground',
    options: {
      'unix-socket': {
        type: 'string',
        value: 'PATH',
        help: 'listen on this Unix socket, without a token (as behind jupyter-server-proxy)'
      },
      port: {
        type: 'string',
        value: 'N',
        help: 'listen on 127.0.0.1:N with a token (default: 0, a free port)'
      },
      token: {
        type: 'string',
        value: 'TOKEN',
        help: 'the token for --port (default: the one kept in the state directory)'
      },
      'poll-interval': {
        type: 'string',
        value: 'SECONDS',
        help: 'how often the scheduler is asked about live jobs (default: 30)'
      },
      'max-concurrent': {
        type: 'string',
        value: 'N',
        help: 'local executor: runs at once, the others wait (default: 2)'
      },
      'idle-exit': {
        type: 'string',
        value: 'MINUTES',
        help: 'exit after MINUTES with no live job and no request (default: never; 30 for a companion the CLI starts)'
      },
      'webhook-url': {
        type: 'string',
        value: 'URL',
        help: 'POST a Slack-compatible message here when a run ends (default: $HPC_SUBMIT_WEBHOOK_URL; prefer it: arguments show in ps)'
      },
      ...STATE,
      ...HELP
    }
  },
  help: {
    args: ['[COMMAND]'],
    companion: false,
    summary: "show this help, or a command's",
    options: HELP
  }
} satisfies Record<string, Command>;

export type CommandName = keyof typeof COMMANDS;

/** The command of that name; undefined for any other word ("toString" included). */
export function commandNamed(name: string | undefined): CommandName | undefined {
  return name !== undefined && Object.prototype.hasOwnProperty.call(COMMANDS, name)
    ? (name as CommandName)
    : undefined;
}
