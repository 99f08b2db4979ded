/**
 * `memo`: a component that renders again only when one of its props changed identity (a shallow
 * compare), as React's memo. Our own few lines, so the page does not carry preact/compat.
 */
import { Component, h, type ComponentChild, type FunctionComponent } from 'preact';

export function memo<P extends object>(render: FunctionComponent<P>): FunctionComponent<P> {
  class Memo extends Component<P> {
    override shouldComponentUpdate(next: P): boolean {
      const now = this.props as Record<string, unknown>;
      const then = next as Record<string, unknown>;
      for (const key in then) if (key !== 'children' && now[key] !== then[key]) return true;
      for (const key in now) if (!(key in then)) return true;
      return false;
    }
    override render(props: P): ComponentChild {
      return h(render, props);
    }
  }
  return Memo as unknown as FunctionComponent<P>;
}
