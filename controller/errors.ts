// Stable error codes. Tests and tools match on codes, never on message text.

export const ErrorCode = {
  /** An input document is not a Kubernetes object (not a mapping, or no kind). */
  InputNotObject: 'GF_INPUT_NOT_OBJECT',
  /** An input object has no metadata.name. */
  InputMissingName: 'GF_INPUT_MISSING_NAME',
  /** An input object's kind or apiVersion is not one gatefleet reads. */
  InputUnknownKind: 'GF_INPUT_UNKNOWN_KIND',
  /** Two input objects share kind, namespace and name; the later one wins. */
  InputDuplicate: 'GF_INPUT_DUPLICATE',
  /** An input object lacks a field its kind requires to be translated. */
  InputInvalidField: 'GF_INPUT_INVALID_FIELD',
  /**
   * An input object does not satisfy its kind's schema: the CRD's structural
   * schema or one of its CEL rules (or, for core kinds, their required fields
   * and types). Reported per field, at the field's line; the object is skipped.
   */
  InputSchema: 'GF_INPUT_SCHEMA',
  /** A file could not be read or parsed. */
  InputParse: 'GF_INPUT_PARSE',
  /** A command-line usage error. */
  Usage: 'GF_USAGE',
} as const;

export type ErrorCodeValue = (typeof ErrorCode)[keyof typeof ErrorCode];

/** A problem with one input object; it is skipped and everything else proceeds. */
export interface Diagnostic {
  code: ErrorCodeValue;
  /** Where: `Kind namespace/name`, or the document's position when it has no name. */
  object: string;
  message: string;
  /** Source file and line when the input came from files. */
  file?: string;
  line?: number;
}

export class GatefleetError extends Error {
  constructor(
    readonly code: ErrorCodeValue,
    message: string,
  ) {
    super(message);
    this.name = 'GatefleetError';
  }
}
