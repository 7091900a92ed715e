/**
 * hpc-submit: the companion (serve) and its command line for terminal and
 * VS Code users on the login node. Arguments are checked in full before
 * anything starts: help, a typo or a missing argument never leaves a
 * companion behind. The only module here with side effects: it runs the
 * command line and sets the exit status.
 */
import { UsageError } from './argv';
import { main } from './commands';
import { commandUsage } from './help';

main(process.argv.slice(2)).then(
  code => {
    if (code >= 0) {
      process.exit(code);
    }
  },
  (e: Error) => {
    if (e instanceof UsageError) {
      const more = e.command ? `hpc-submit help ${e.command}` : 'hpc-submit --help';
      console.error(`hpc-submit: ${e.message}\n${commandUsage(e.command)}\nTry '${more}'.`);
    } else {
      console.error(`hpc-submit: ${e.message}`);
    }
    process.exit(2);
  }
);
