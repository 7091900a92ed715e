/** Ids shared across the plugin: one place, so tests and settings can name them. */
export const PLUGIN_ID = 'jupyterlab-hpc-submit:plugin';
export const SIDEBAR_ID = 'jp-hpc-submit-sidebar';
/** The palette category of every command. */
export const PALETTE_CATEGORY = 'HPC Submit';
/** The companion's mount point under the Jupyter server's base URL (jupyter-server-proxy). */
export const COMPANION_PATH = 'hpc-submit/';

export namespace CommandIDs {
  export const run = 'hpc-submit:run';
  export const runWithParameters = 'hpc-submit:run-with-parameters';
  export const openSidebar = 'hpc-submit:open-sidebar';
  export const cancel = 'hpc-submit:cancel';
  export const openOutput = 'hpc-submit:open-output';
  export const showLog = 'hpc-submit:show-log';
  export const rerun = 'hpc-submit:rerun';
  export const forget = 'hpc-submit:forget';
  export const details = 'hpc-submit:run-details';
  export const createKernel = 'hpc-submit:create-kernel';
  export const installEnvironment = 'hpc-submit:install-environment';
  export const checkSetup = 'hpc-submit:check-setup';
  export const refresh = 'hpc-submit:refresh';
  export const results = 'hpc-submit:results';
  export const compare = 'hpc-submit:compare';
  export const runPipeline = 'hpc-submit:run-pipeline';
  export const runOnSchedule = 'hpc-submit:run-on-schedule';
}

/** Toolbar item names declared in schema/settings/plugin.json. */
export const TOOLBAR_PICKER = 'hpc-submit-profile';
export const TOOLBAR_RUN = 'hpc-submit-run';
export const TOOLBAR_RECORD = 'hpc-submit-record';
