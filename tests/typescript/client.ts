// A small typed client of /api/v1/events, compiled by tests/test_typed_clients.py with
// `tsc --strict --noEmit` against `grimnir-sim schema typescript` and against
// json-schema-to-typescript's output for `grimnir-sim schema jsonschema`.
import type { GrimnirMessage, LiveHandover, NowPlayingMediaMessage } from "./grimnir-events";

function assertNever(message: never): never {
  throw new Error(`unexpected message: ${JSON.stringify(message)}`);
}

function seconds(value: number): string {
  return `${value.toFixed(1)} s`;
}

function at(instant: string): Date {
  return new Date(instant);
}

export function describe(message: GrimnirMessage): string {
  switch (message.type) {
    case "now_playing": {
      const payload = message.payload;
      if ("media_id" in payload) {
        return `${payload.artist} - ${payload.title} (${seconds(payload.duration)}) from ${at(payload.starts_at).toISOString()}`;
      }
      if ("webstream_id" in payload) {
        const healthy: boolean = payload.health_status === "healthy";
        return `${payload.webstream_name} at ${payload.url}${healthy ? "" : ` (${payload.health_status})`}`;
      }
      return `${payload.username} live: ${payload.title} since ${at(payload.starts_at).toISOString()}`;
    }
    case "live.handover": {
      const tier: 1 | 2 = message.payload.priority;
      return `${message.payload.username} takes the air (tier ${tier}, ${message.payload.transition_type})`;
    }
    case "live.released":
      return `${message.payload.username} released at ${at(message.payload.released_at).toISOString()}`;
    case "dj_connect":
      return `${message.payload.username} connected from ${message.payload.source_ip}`;
    case "dj_disconnect":
      return `${message.payload.username} left after ${seconds(message.payload.duration_seconds)}`;
    case "webstream.failover":
      return `${message.payload.webstream_name}: ${message.payload.failed_url} -> ${message.payload.failover_url} (${message.payload.reason})`;
    case "webstream.recovered":
      return `${message.payload.webstream_name} back on ${message.payload.recovered_url}`;
    case "priority.emergency": {
      const tier: 0 = message.payload.priority;
      return `emergency ${message.payload.media_id} (tier ${tier}, ${message.payload.source_type})`;
    }
    case "priority.override":
      return `override by ${message.payload.source_type} ${message.payload.source_id} (${message.payload.transition_type})`;
    case "priority.released": {
      const from: number = message.payload.previous_priority;
      return `tier ${from} released, now ${message.payload.new_priority}`;
    }
    case "health": {
      const payload = message.payload;
      if (payload.event === "crossfade") {
        return `crossfade ${payload.previous_media} -> ${payload.current_media}`;
      }
      return `${payload.status}: tier ${payload.priority} ${payload.source_type}`;
    }
    case "schedule_update": {
      const added: number = message.payload.entries_added;
      return `${added} schedule entries added`;
    }
    case "ping": return "ping";
    default:
      return assertNever(message);
  }
}

export function parse(text: string): GrimnirMessage {
  return JSON.parse(text) as GrimnirMessage;
}

export const track: NowPlayingMediaMessage = {
  type: "now_playing",
  payload: {
    station_id: "0b8e1f6e-7c1d-5d8e-9a43-3f0c5e1d2a10",
    mount_id: "4d7f3a1c-2b6e-5f90-8c1d-7e2a9b3c4d5e",
    media_id: "9a1b2c3d-4e5f-5a6b-8c7d-0e1f2a3b4c5d",
    title: "First Light",
    artist: "Ada Larsen",
    album: "Morning",
    duration: 180.5,
    starts_at: "2026-01-19T10:00:00Z",
  },
};

// What the types must refuse: each line below is an error, or tsc reports the directive.
// @ts-expect-error: duration is a number
export const durationText: string = track.payload.duration;
// @ts-expect-error: a handover is tier 1 or 2
export const tierThree: LiveHandover["priority"] = 3;
// @ts-expect-error: no message has this type
export const unknownType: GrimnirMessage = { type: "now-playing" };
// @ts-expect-error: every payload field is required
export const noAlbum: NowPlayingMediaMessage = { type: "now_playing", payload: { ...track.payload, album: undefined } };
// @ts-expect-error: payloads are closed
export const extraField: NowPlayingMediaMessage = { type: "now_playing", payload: { ...track.payload, mood: "calm" } };
