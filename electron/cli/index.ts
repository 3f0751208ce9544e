import { reportCliError, runCli } from './main.js';

runCli(process.argv.slice(2)).then(
  (status) => {
    process.exitCode = status;
  },
  (err: unknown) => {
    process.exitCode = reportCliError(err);
  },
);
