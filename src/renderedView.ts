import { ReactWidget } from '@jupyterlab/ui-components';

/** A ReactWidget that renders what its owner says, again on each update(). */
export class RenderedView extends ReactWidget {
  constructor(private readonly draw: () => JSX.Element) {
    super();
  }
  protected render(): JSX.Element {
    return this.draw();
  }
}
