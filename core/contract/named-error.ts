/**
 * The base of our errors that carry only a message: `name` is the class's own, because the
 * state machine's Retry and Catch, the Lambda error payload and our logs match on the name.
 */
export function namedError(name: string) {
  return class extends Error {
    constructor(message: string, options?: ErrorOptions) {
      super(message, options);
      this.name = name;
    }
  };
}
