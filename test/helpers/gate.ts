/** A gate that an activity passes only once the test opens it. */
export interface Gate {
  /** How many calls reached the gate. */
  entered: number;
  open(): void;
  pass(): Promise<void>;
}

/** Creates a closed gate; `opened`, when given, collects its `open` so a teardown can release every gate. */
export function gate(opened?: (() => void)[]): Gate {
  let open!: () => void;
  const released = new Promise<void>((resolve) => (open = resolve));
  opened?.push(open);
  const g: Gate = {
    entered: 0,
    open,
    pass: async () => {
      g.entered++;
      await released;
    },
  };
  return g;
}
