// Jobs on a real scheduler and a real hub take minutes; each test waits with
// deadlines of its own, so jest's default of 5 s would only cut them short.
jest.setTimeout(10 * 60_000);
