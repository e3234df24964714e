// strftime(3) in the C locale, which is what Apache's %{format}t prints (httpd never calls
// setlocale). Unknown conversions are copied through, as glibc does.
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];

export type Parts = {
  Y: number;
  m: number;
  d: number;
  H: number;
  M: number;
  S: number;
  w: number;
  off: number;
  epoch: number;
};

export function parts(ms: number, utc: boolean): Parts {
  const t = new Date(ms);
  if (utc) {
    return {
      Y: t.getUTCFullYear(),
      m: t.getUTCMonth(),
      d: t.getUTCDate(),
      H: t.getUTCHours(),
      M: t.getUTCMinutes(),
      S: t.getUTCSeconds(),
      w: t.getUTCDay(),
      off: 0,
      epoch: Math.floor(ms / 1000),
    };
  }
  return {
    Y: t.getFullYear(),
    m: t.getMonth(),
    d: t.getDate(),
    H: t.getHours(),
    M: t.getMinutes(),
    S: t.getSeconds(),
    w: t.getDay(),
    off: -t.getTimezoneOffset(),
    epoch: Math.floor(ms / 1000),
  };
}

const p2 = (n: number): string => (n < 10 ? `0${n}` : String(n));
const s2 = (n: number): string => (n < 10 ? ` ${n}` : String(n));
const p3 = (n: number): string => String(n).padStart(3, '0');

/** `+hhmm` / `-hhmm` from an offset in minutes east of UTC. */
export function tzOffset(minutes: number): string {
  const sign = minutes < 0 ? '-' : '+';
  const a = Math.abs(minutes);
  return `${sign}${p2(Math.floor(a / 60))}${p2(a % 60)}`;
}

function yday(p: Parts): number {
  return Math.round((Date.UTC(p.Y, p.m, p.d) - Date.UTC(p.Y, 0, 1)) / 86_400_000);
}

// ISO 8601 week-based year and week number (%G, %V).
function isoWeek(p: Parts): [number, number] {
  const date = new Date(Date.UTC(p.Y, p.m, p.d));
  const day = (p.w + 6) % 7;
  date.setUTCDate(date.getUTCDate() - day + 3);
  const year = date.getUTCFullYear();
  // The week holding the Thursday is numbered by that Thursday's day of the year.
  const week = 1 + Math.floor((date.getTime() - Date.UTC(year, 0, 1)) / 86_400_000 / 7);
  return [year, week];
}

function conv(c: string, p: Parts, utc: boolean): string | undefined {
  switch (c) {
    case 'a':
      return (DAYS[p.w] as string).slice(0, 3);
    case 'A':
      return DAYS[p.w];
    case 'b':
    case 'h':
      return (MONTHS[p.m] as string).slice(0, 3);
    case 'B':
      return MONTHS[p.m];
    case 'c':
      return `${conv('a', p, utc)} ${conv('b', p, utc)} ${s2(p.d)} ${p2(p.H)}:${p2(p.M)}:${p2(p.S)} ${p.Y}`;
    case 'C':
      return p2(Math.floor(p.Y / 100));
    case 'd':
      return p2(p.d);
    case 'D':
      return `${p2(p.m + 1)}/${p2(p.d)}/${p2(p.Y % 100)}`;
    case 'e':
      return s2(p.d);
    case 'F':
      return `${p.Y}-${p2(p.m + 1)}-${p2(p.d)}`;
    case 'g':
      return p2(isoWeek(p)[0] % 100);
    case 'G':
      return String(isoWeek(p)[0]);
    case 'H':
      return p2(p.H);
    case 'I':
      return p2(p.H % 12 || 12);
    case 'j':
      return p3(yday(p) + 1);
    case 'k':
      return s2(p.H);
    case 'l':
      return s2(p.H % 12 || 12);
    case 'm':
      return p2(p.m + 1);
    case 'M':
      return p2(p.M);
    case 'n':
      return '\n';
    case 'p':
      return p.H < 12 ? 'AM' : 'PM';
    case 'P':
      return p.H < 12 ? 'am' : 'pm';
    case 'r':
      return `${p2(p.H % 12 || 12)}:${p2(p.M)}:${p2(p.S)} ${p.H < 12 ? 'AM' : 'PM'}`;
    case 'R':
      return `${p2(p.H)}:${p2(p.M)}`;
    case 's':
      return String(p.epoch);
    case 'S':
      return p2(p.S);
    case 't':
      return '\t';
    case 'T':
      return `${p2(p.H)}:${p2(p.M)}:${p2(p.S)}`;
    case 'u':
      return String(p.w === 0 ? 7 : p.w);
    case 'U':
      return p2(Math.floor((yday(p) + 7 - p.w) / 7));
    case 'V':
      return p2(isoWeek(p)[1]);
    case 'w':
      return String(p.w);
    case 'W':
      return p2(Math.floor((yday(p) + 7 - ((p.w + 6) % 7)) / 7));
    case 'x':
      return `${p2(p.m + 1)}/${p2(p.d)}/${p2(p.Y % 100)}`;
    case 'X':
      return `${p2(p.H)}:${p2(p.M)}:${p2(p.S)}`;
    case 'y':
      return p2(p.Y % 100);
    case 'Y':
      return String(p.Y);
    case 'z':
      return tzOffset(p.off);
    case 'Z':
      return utc ? 'GMT' : localZoneName(p);
    case '%':
      return '%';
    default:
      return undefined;
  }
}

// Built once: constructing an Intl.DateTimeFormat costs far more than formatting with one,
// and %Z may be in every log line.
let zoneFormat: Intl.DateTimeFormat | undefined;

function localZoneName(p: Parts): string {
  zoneFormat ??= new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' });
  const name = zoneFormat.formatToParts(new Date(p.epoch * 1000)).find((x) => x.type === 'timeZoneName');
  return name?.value ?? tzOffset(p.off);
}

/** Formats epoch milliseconds with a strftime(3) pattern, C locale, local time or UTC. */
export function strftime(format: string, ms: number, utc: boolean): string {
  const p = parts(ms, utc);
  let out = '';
  for (let i = 0; i < format.length; i++) {
    const ch = format[i] as string;
    if (ch !== '%' || i === format.length - 1) {
      out += ch;
      continue;
    }
    let c = format[++i] as string;
    // glibc flags and the E/O modifiers change nothing in the C locale.
    while (
      (c === 'E' || c === 'O' || c === '-' || c === '_' || c === '0' || c === '^' || c === '#') &&
      i < format.length - 1
    )
      c = format[++i] as string;
    const v = conv(c, p, utc);
    out += v === undefined ? `%${c}` : v;
  }
  return out;
}

const ABBR = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * Apache's default `%t`: `[10/Oct/2000:13:55:36 -0700]`. The string only changes once a
 * second, so the last one is kept, as httpd's cached_explode does.
 */
export function clfTimeFormatter(utc: boolean): (ms: number) => string {
  let lastSec = Number.NaN;
  let last = '';
  return function clfTime(ms) {
    const sec = Math.floor(ms / 1000);
    if (sec === lastSec) return last;
    const p = parts(ms, utc);
    lastSec = sec;
    last = `[${p2(p.d)}/${ABBR[p.m]}/${p.Y}:${p2(p.H)}:${p2(p.M)}:${p2(p.S)} ${tzOffset(p.off)}]`;
    return last;
  };
}
