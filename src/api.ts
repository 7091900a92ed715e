/** The companion's routes (DESIGN.md), typed with the shared wire types. */
import type { Job, JobList, HealthInfo, ProfileList, ProfileStatus, Resources, SubmitRequest } from './wire';
import { requestCompanion } from './request';

const json = (body: unknown): RequestInit => ({
  method: 'POST',
  body: JSON.stringify(body),
  headers: { 'Content-Type': 'application/json' }
});
const id = (jobId: string) => encodeURIComponent(jobId);

export const api = {
  health: () => requestCompanion<HealthInfo>('api/health'),
  profiles: () => requestCompanion<ProfileList>('api/profiles').then((r) => r.profiles),
  createKernel: (profile: string) =>
    requestCompanion<ProfileStatus>(`api/profiles/${encodeURIComponent(profile)}/kernel`, { method: 'POST' }),
  submit: (notebook: string, profile: string, resources?: Resources) => {
    const body: SubmitRequest = { notebook, profile, ...(resources ? { resources } : {}) };
    return requestCompanion<Job>('api/jobs', json(body));
  },
  jobs: () => requestCompanion<JobList>('api/jobs').then((r) => r.jobs),
  job: (jobId: string) => requestCompanion<Job>(`api/jobs/${id(jobId)}`),
  log: async (jobId: string, offset: number): Promise<string> =>
    requestCompanion<string>(`api/jobs/${id(jobId)}/log?offset=${offset}`),
  cancel: (jobId: string) => requestCompanion<Job>(`api/jobs/${id(jobId)}/cancel`, { method: 'POST' }),
  forget: (jobId: string) => requestCompanion<string>(`api/jobs/${id(jobId)}`, { method: 'DELETE' })
};
