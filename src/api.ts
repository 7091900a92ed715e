/** The companion's HTTP routes, typed with the shared wire types (contract/wire.ts). */
import type {
  EstimateAnswer,
  HealthInfo,
  Job,
  JobDetails,
  JobList,
  NotebookParameters,
  PipelineAnswer,
  PipelineRequest,
  ScheduleInfo,
  ScheduleList,
  ScheduleRequest,
  ProfileList,
  SetupLog,
  SetupRequest,
  SetupTask,
  SubmitRequest,
  SweepAnswer
} from '../contract/wire';
import { requestCompanion, requestCompanionText } from './request';

/** A piece of a job's log and the byte offset to ask for next. */
export interface LogChunk {
  text: string;
  next: number;
}

/** What the model calls; an interface so the model is tested against a stand-in transport. */
export interface CompanionApi {
  health(): Promise<HealthInfo>;
  /** The site's profiles; with a notebook, the choices for it (its pixi project's first). */
  profiles(notebook?: string): Promise<ProfileList>;
  /** Installs an environment or creates a kernel: a task whose log is read with setupLog. */
  startSetup(request: SetupRequest): Promise<SetupTask>;
  setupLog(taskId: string, offset: number): Promise<SetupLog>;
  cancelSetup(taskId: string): Promise<SetupTask>;
  submit(request: SubmitRequest): Promise<Job>;
  /** A sweep: one task per combination of the swept values (one Slurm job array). */
  submitSweep(request: SubmitRequest): Promise<SweepAnswer>;
  /** The notebook's parameters (its cell tagged `parameters`), read by papermill. */
  parameters(notebook: string): Promise<NotebookParameters>;
  /** Cancels every live task of a sweep (one scancel of the array). */
  cancelSweep(sweepId: string): Promise<JobList>;
  /** A new sweep of the failed (and timed-out, cancelled) tasks only. */
  rerunFailed(sweepId: string): Promise<SweepAnswer>;
  /** A sweep and all its tasks, in task order, however far back in the history. */
  sweep(sweepId: string): Promise<SweepAnswer>;
  /** A pipeline file's steps, submitted at once, each after those it comes after. */
  submitPipeline(file: string): Promise<PipelineAnswer>;
  /** Cancels every live run of a pipeline (one scancel). */
  cancelPipeline(pipelineId: string): Promise<PipelineAnswer>;
  /** "Re-run from the failed step": every step that did not complete, again. */
  rerunPipeline(pipelineId: string): Promise<PipelineAnswer>;
  /** The schedules of this user (scrontab entries); `unavailable` where none can be held. */
  schedules(): Promise<ScheduleList>;
  addSchedule(request: ScheduleRequest): Promise<ScheduleInfo>;
  /** Pauses (true) or resumes a schedule. */
  pauseSchedule(scheduleId: string, paused: boolean): Promise<ScheduleInfo>;
  removeSchedule(scheduleId: string): Promise<unknown>;
  /** One page of the history, newest first; `next` asks for the following page. */
  jobsPage(limit: number, cursor?: string): Promise<JobList>;
  log(jobId: string, offset: number): Promise<LogChunk>;
  cancel(jobId: string): Promise<Job>;
  forget(jobId: string): Promise<unknown>;
  /** The run record, status and job of a run. */
  details(jobId: string): Promise<JobDetails>;
  /** When a run of the profile would start (Slurm's estimate). */
  estimate(profile: string): Promise<EstimateAnswer>;
}

const json = (body: unknown): RequestInit => ({
  method: 'POST',
  body: JSON.stringify(body),
  headers: { 'Content-Type': 'application/json' }
});
const POST: RequestInit = { method: 'POST' };
const id = (jobId: string) => encodeURIComponent(jobId);

export const api: CompanionApi = {
  health: () => requestCompanion<HealthInfo>('api/health'),
  profiles: notebook =>
    requestCompanion<ProfileList>(
      notebook === undefined
        ? 'api/profiles'
        : `api/profiles?notebook=${encodeURIComponent(notebook)}`
    ),
  startSetup: request => requestCompanion<SetupTask>('api/setup', json(request)),
  setupLog: (taskId, offset) =>
    requestCompanion<SetupLog>(`api/setup/${id(taskId)}?offset=${offset}`),
  cancelSetup: taskId =>
    requestCompanion<SetupTask>(`api/setup/${id(taskId)}`, { method: 'DELETE' }),
  submit: request => requestCompanion<Job>('api/jobs', json(request)),
  submitSweep: request => requestCompanion<SweepAnswer>('api/jobs', json(request)),
  parameters: notebook =>
    requestCompanion<NotebookParameters>(`api/parameters?notebook=${encodeURIComponent(notebook)}`),
  cancelSweep: sweepId => requestCompanion<JobList>(`api/sweeps/${id(sweepId)}/cancel`, POST),
  rerunFailed: sweepId =>
    requestCompanion<SweepAnswer>(`api/sweeps/${id(sweepId)}/rerun-failed`, POST),
  sweep: sweepId => requestCompanion<SweepAnswer>(`api/sweeps/${id(sweepId)}`),
  submitPipeline: file => {
    const body: PipelineRequest = { file };
    return requestCompanion<PipelineAnswer>('api/pipelines', json(body));
  },
  cancelPipeline: pipelineId =>
    requestCompanion<PipelineAnswer>(`api/pipelines/${id(pipelineId)}/cancel`, POST),
  rerunPipeline: pipelineId =>
    requestCompanion<PipelineAnswer>(`api/pipelines/${id(pipelineId)}/rerun`, POST),
  schedules: () => requestCompanion<ScheduleList>('api/schedules'),
  addSchedule: request => requestCompanion<ScheduleInfo>('api/schedules', json(request)),
  pauseSchedule: (scheduleId, paused) =>
    requestCompanion<ScheduleInfo>(
      `api/schedules/${id(scheduleId)}/${paused ? 'pause' : 'resume'}`,
      POST
    ),
  removeSchedule: scheduleId =>
    requestCompanion<unknown>(`api/schedules/${id(scheduleId)}`, { method: 'DELETE' }),
  jobsPage: (limit, cursor) =>
    requestCompanion<JobList>(
      `api/jobs?limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`
    ),
  log: async (jobId, offset) => {
    const { text, headers } = await requestCompanionText(
      `api/jobs/${id(jobId)}/log?offset=${offset}`
    );
    // The companion says where the next read starts; it never cuts a UTF-8 character.
    const next = Number(headers.get('X-Log-Offset'));
    return {
      text,
      next:
        Number.isInteger(next) && next >= offset
          ? next
          : offset + new TextEncoder().encode(text).length
    };
  },
  cancel: jobId => requestCompanion<Job>(`api/jobs/${id(jobId)}/cancel`, POST),
  forget: jobId => requestCompanion<unknown>(`api/jobs/${id(jobId)}`, { method: 'DELETE' }),
  details: jobId => requestCompanion<JobDetails>(`api/jobs/${id(jobId)}/details`),
  estimate: profile =>
    requestCompanion<EstimateAnswer>(`api/profiles/${encodeURIComponent(profile)}/estimate`)
};
