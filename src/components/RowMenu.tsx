import { ellipsesIcon } from '@jupyterlab/ui-components';
import React, { useEffect, useRef } from 'react';
import { IconButton } from './IconButton';

export interface MenuItem {
  label: string;
  onSelect(): void;
}

/**
 * A row's less frequent actions: the "…" button, or a right click on the
 * row, opens them. Arrow keys move between the items, Escape closes and
 * gives the focus back to the button.
 */
export function RowMenu(props: {
  label: string;
  items: MenuItem[];
  open: boolean;
  onOpen(): void;
  onClose(): void;
}): JSX.Element {
  const button = useRef<HTMLSpanElement>(null);
  const menu = useRef<HTMLUListElement>(null);
  useEffect(() => {
    if (!props.open) {
      return;
    }
    menu.current?.querySelector<HTMLElement>('[role="menuitem"]')?.focus();
    const outside = (e: MouseEvent) => {
      if (!menu.current?.contains(e.target as Node)) {
        props.onClose();
      }
    };
    document.addEventListener('mousedown', outside);
    return () => document.removeEventListener('mousedown', outside);
  }, [props.open]);

  const close = () => {
    props.onClose();
    button.current?.querySelector('button')?.focus();
  };
  const onKeyDown = (e: React.KeyboardEvent) => {
    const items = Array.from(
      menu.current?.querySelectorAll<HTMLElement>('[role="menuitem"]') ?? []
    );
    const at = items.indexOf(document.activeElement as HTMLElement);
    if (e.key === 'Escape') {
      close();
    } else if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      const step = e.key === 'ArrowDown' ? 1 : -1;
      items[(at + step + items.length) % items.length]?.focus();
    } else {
      return;
    }
    e.preventDefault();
    e.stopPropagation();
  };
  return (
    <span className="jp-HpcSubmit-menuAnchor" ref={button}>
      <IconButton
        icon={ellipsesIcon}
        title={props.label}
        onClick={() => (props.open ? props.onClose() : props.onOpen())}
      />
      {props.open && (
        <ul className="jp-HpcSubmit-menu" role="menu" ref={menu} onKeyDown={onKeyDown}>
          {props.items.map(item => (
            <li
              key={item.label}
              role="menuitem"
              tabIndex={-1}
              className="jp-HpcSubmit-menuItem"
              onClick={() => {
                close();
                item.onSelect();
              }}
              onKeyDown={e => {
                if (e.key === 'Enter' || e.key === ' ') {
                  e.preventDefault();
                  close();
                  item.onSelect();
                }
              }}
            >
              {item.label}
            </li>
          ))}
        </ul>
      )}
    </span>
  );
}
