/**
 * The pipeline file a request names: under the Jupyter root as a notebook
 * must be (paths.ts), a YAML file, small enough to be one a person wrote.
 */
import { promises as fs } from 'node:fs';
import { checkRootRelative, realUnderRoot } from '../jobs/paths';
import { invalid } from '../jobs/refusal';
import { MAX_PIPELINE_BYTES, PIPELINE_FILE_EXPECTED } from './pipelineFile';

export interface ResolvedPipelineFile {
  /** As given, normalized, relative to the root. */
  relative: string;
  text: string;
}

export async function resolvePipelineFile(
  rootDir: string,
  path: unknown
): Promise<ResolvedPipelineFile> {
  const parts = checkRootRelative(path, 'pipeline file', PIPELINE_FILE_EXPECTED);
  const rel = parts.join('/');
  if (!/\.ya?ml$/i.test(rel)) {
    throw invalid(`${JSON.stringify(rel)} is not a pipeline file: a pipeline is a .yaml file`);
  }
  const { real } = await realUnderRoot(rootDir, rel, 'pipeline file');
  const stat = await fs.stat(real);
  if (!stat.isFile()) {
    throw invalid(`${JSON.stringify(rel)} is not a regular file`);
  }
  if (stat.size > MAX_PIPELINE_BYTES) {
    throw invalid(
      `${JSON.stringify(rel)} is ${Math.ceil(stat.size / 1024)} KB, more than a pipeline file's ${MAX_PIPELINE_BYTES / 1024} KB`
    );
  }
  return { relative: rel, text: await fs.readFile(real, 'utf8') };
}
