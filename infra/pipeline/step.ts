import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';

/**
 * A step of the pipeline: where it starts, and how to say what comes after it. Steps are
 * connected in order by `sequence`, so the definition reads as a list. (Not `then`: an
 * object with a `then` method is a thenable, and awaiting one would call it.)
 */
export interface Step {
  readonly start: sfn.State;
  continueTo(next: sfn.State): void;
}

/** Connects each step to the next; returns the first state. */
export function sequence(steps: Step[], last: sfn.State): sfn.State {
  steps.forEach((step, i) => {
    step.continueTo(steps[i + 1]?.start ?? last);
  });
  return steps[0]?.start ?? last;
}
