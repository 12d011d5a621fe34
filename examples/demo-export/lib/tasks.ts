export const TASK_STATUSES = ["todo", "doing", "done"] as const;

export type TaskStatus = (typeof TASK_STATUSES)[number];

export type Task = {
  id: string;
  title: string;
  owner: string;
  status: TaskStatus;
  createdAt: string;
};

// In-memory store. Data resets when the server restarts; swap this out for a
// real database before deploying.
const tasks: Task[] = [
  {
    id: "t1",
    title: "Review the onboarding checklist",
    owner: "Alex",
    status: "done",
    createdAt: "2024-07-15T09:00:00.000Z",
  },
  {
    id: "t2",
    title: "Fix flaky date picker test",
    owner: "Sam",
    status: "doing",
    createdAt: "2024-07-15T09:05:00.000Z",
  },
  {
    id: "t3",
    title: "Draft release notes for 1.4",
    owner: "Jordan",
    status: "todo",
    createdAt: "2024-07-15T09:10:00.000Z",
  },
];

let nextId = tasks.length + 1;

export function isTaskStatus(value: unknown): value is TaskStatus {
  return typeof value === "string" && (TASK_STATUSES as readonly string[]).includes(value);
}

export function listTasks(): Task[] {
  return [...tasks];
}

export function createTask(input: { title: string; owner: string }): Task {
  const task: Task = {
    id: `t${nextId++}`,
    title: input.title,
    owner: input.owner,
    status: "todo",
    createdAt: new Date().toISOString(),
  };
  tasks.push(task);
  return task;
}

export function updateTaskStatus(id: string, status: TaskStatus): Task | undefined {
  const task = tasks.find((candidate) => candidate.id === id);
  if (task) {
    task.status = status;
  }
  return task;
}
