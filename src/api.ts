/** The companion's HTTP routes, typed with the shared wire types (contract/wire.ts). */
import type {
  EstimateAnswer,
  HealthInfo,
  Job,
  JobDetails,
  JobList,
  ProfileList,
  ProfileStatus,
  Resources,
  SubmitRequest
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
  profiles(): Promise<ProfileStatus[]>;
  createKernel(profile: string): Promise<unknown>;
  submit(
    notebook: string,
    profile: string,
    resources?: Resources,
    idempotencyKey?: string
  ): Promise<Job>;
  jobs(): Promise<Job[]>;
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
  profiles: () => requestCompanion<ProfileList>('api/profiles').then(r => r.profiles),
  createKernel: profile =>
    requestCompanion<ProfileStatus>(`api/profiles/${encodeURIComponent(profile)}/kernel`, POST),
  submit: (notebook, profile, resources, idempotencyKey) => {
    const body: SubmitRequest = {
      notebook,
      profile,
      ...(resources ? { resources } : {}),
      ...(idempotencyKey ? { idempotencyKey } : {})
    };
    return requestCompanion<Job>('api/jobs', json(body));
  },
  jobs: () => requestCompanion<JobList>('api/jobs').then(r => r.jobs),
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
