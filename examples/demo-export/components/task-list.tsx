"use client";

import { useEffect, useState } from "react";

import { Button } from "@/components/ui/button";
import { TASK_STATUSES, type Task, type TaskStatus } from "@/lib/tasks";
import { cn, formatTime } from "@/lib/utils";

const statusLabels: Record<TaskStatus, string> = {
  todo: "To do",
  doing: "In progress",
  done: "Done",
};

const statusStyles: Record<TaskStatus, string> = {
  todo: "bg-muted text-muted-foreground",
  doing: "bg-amber-100 text-amber-900",
  done: "bg-emerald-100 text-emerald-900",
};

function nextStatus(status: TaskStatus): TaskStatus {
  const index = TASK_STATUSES.indexOf(status);
  return TASK_STATUSES[(index + 1) % TASK_STATUSES.length];
}

export function TaskList({ initialTasks }: { initialTasks: Task[] }) {
  const [tasks, setTasks] = useState(initialTasks);

  useEffect(() => {
    setTasks(initialTasks);
  }, [initialTasks]);

  async function advance(task: Task) {
    const status = nextStatus(task.status);
    setTasks((current) =>
      current.map((item) => (item.id === task.id ? { ...item, status } : item)),
    );

    const response = await fetch("/api/tasks", {
      method: "PATCH",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ id: task.id, status }),
    }).catch(() => null);

    if (!response?.ok) {
      // Roll back the optimistic update.
      setTasks((current) => current.map((item) => (item.id === task.id ? task : item)));
    }
  }

  if (tasks.length === 0) {
    return <p className="text-sm text-muted-foreground">No tasks yet. Add the first one above.</p>;
  }

  return (
    <ul className="divide-y rounded-lg border">
      {tasks.map((task) => (
        <li key={task.id} className="flex items-center justify-between gap-4 p-4">
          <div className="min-w-0">
            <p className={cn("truncate font-medium", task.status === "done" && "line-through opacity-60")}>
              {task.title}
            </p>
            <p className="text-xs text-muted-foreground">
              {task.owner} · added {formatTime(task.createdAt)}
            </p>
          </div>
          <div className="flex shrink-0 items-center gap-2">
            <span className={cn("rounded-full px-2 py-0.5 text-xs font-medium", statusStyles[task.status])}>
              {statusLabels[task.status]}
            </span>
            <Button variant="outline" size="sm" onClick={() => advance(task)}>
              Next
            </Button>
          </div>
        </li>
      ))}
    </ul>
  );
}
