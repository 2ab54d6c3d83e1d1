// A reason a rule, filter or reference cannot be implemented, as data.

export interface Problem {
  reason: string;
  message: string;
}

export function problem(reason: string, message: string): Problem {
  return { reason, message };
}
