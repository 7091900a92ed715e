import React from 'react';
import type { ScheduleInfo } from '../../contract/wire';

export interface ScheduleActions {
  setPaused(id: string, paused: boolean): void;
  remove(id: string): void;
}

/** "Fri 02:00", in the browser's time zone: when the next start is. */
function shortTime(iso: string): string {
  return new Date(iso).toLocaleString(undefined, {
    weekday: 'short',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit'
  });
}

function nextLine(s: ScheduleInfo): string {
  if (s.paused) {
    return 'Paused';
  }
  return s.nextRun ? `Next: ${shortTime(s.nextRun)}` : 'No next start';
}

function lastLine(s: ScheduleInfo): string | null {
  if (!s.last) {
    return null;
  }
  return s.last.error
    ? `Last start (${shortTime(s.last.at)}) submitted nothing: ${s.last.error}`
    : `Last start: ${shortTime(s.last.at)}`;
}

/** The user's schedules, each with its next start and its last outcome; renders only. */
export function SchedulesSection(props: {
  schedules: readonly ScheduleInfo[];
  error: string | null;
  actions: ScheduleActions;
}): JSX.Element | null {
  if (props.schedules.length === 0 && !props.error) {
    return null;
  }
  return (
    <section className="jp-HpcSubmit-schedules" aria-label="Schedules">
      <h3 className="jp-HpcSubmit-schedulesTitle">Schedules</h3>
      {props.error && <p className="jp-HpcSubmit-scheduleError">{props.error}</p>}
      <ul className="jp-HpcSubmit-scheduleList">
        {props.schedules.map(s => {
          const last = lastLine(s);
          return (
            <li key={s.id} className="jp-HpcSubmit-schedule" data-schedule-id={s.id}>
              <div className="jp-HpcSubmit-scheduleLabel" title={s.target ?? s.label}>
                {s.label}
              </div>
              <div className="jp-HpcSubmit-scheduleWhen">
                <code>{s.when}</code> · {nextLine(s)}
              </div>
              {last && (
                <div
                  className={
                    s.last?.error
                      ? 'jp-HpcSubmit-scheduleLast jp-mod-error'
                      : 'jp-HpcSubmit-scheduleLast'
                  }
                >
                  {last}
                </div>
              )}
              <div className="jp-HpcSubmit-scheduleActions">
                <button
                  type="button"
                  className="jp-Button jp-mod-minimal"
                  onClick={() => props.actions.setPaused(s.id, !s.paused)}
                >
                  {s.paused ? 'Resume' : 'Pause'}
                </button>
                <button
                  type="button"
                  className="jp-Button jp-mod-minimal"
                  aria-label={`Remove the schedule of ${s.label}`}
                  onClick={() => props.actions.remove(s.id)}
                >
                  Remove
                </button>
              </div>
            </li>
          );
        })}
      </ul>
    </section>
  );
}
