/**
 * The user's schedules as the sidebar shows them: read from the companion
 * when asked (the sidebar is shown, a schedule changed, a run began), never
 * polled on a timer; each change answered with the list read again.
 */
import { Signal } from '@lumino/signaling';
import type { CompanionApi } from './api';
import type { ScheduleInfo, ScheduleRequest } from '../contract/wire';

export class SchedulesModel {
  readonly changed = new Signal<this, void>(this);
  private _list: ScheduleInfo[] = [];
  private _unavailable: string | null = null;
  private _error: string | null = null;

  constructor(private readonly api: CompanionApi) {}

  get list(): readonly ScheduleInfo[] {
    return this._list;
  }

  /** Why this companion holds no schedule (the local executor); null where it can. */
  get unavailable(): string | null {
    return this._unavailable;
  }

  /** Why the list could not be read the last time; null when it was. */
  get error(): string | null {
    return this._error;
  }

  async refresh(): Promise<void> {
    try {
      const { schedules, unavailable } = await this.api.schedules();
      this._list = schedules;
      this._unavailable = unavailable ?? null;
      this._error = null;
    } catch (e) {
      this._error = (e as Error).message;
    }
    this.changed.emit();
  }

  async add(request: ScheduleRequest): Promise<ScheduleInfo> {
    const added = await this.api.addSchedule(request);
    await this.refresh();
    return added;
  }

  async setPaused(id: string, paused: boolean): Promise<void> {
    await this.api.pauseSchedule(id, paused);
    await this.refresh();
  }

  async remove(id: string): Promise<void> {
    await this.api.removeSchedule(id);
    await this.refresh();
  }
}
