// A 400 about one input field, raised by services after the schema has passed (rules the
// schema cannot say). It keeps the field and the problem apart so the CLI can word them its way.
import { HttpError } from './errors'

export class InvalidField extends HttpError {
  constructor(
    readonly field: string,
    readonly problem: string,
  ) {
    super(400, `Invalid body field '${field}': ${problem}`, { param: field, code: 'invalid_value' })
  }
}
