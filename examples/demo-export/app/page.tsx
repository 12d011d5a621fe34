import { TaskForm } from "@/components/task-form";
import { TaskList } from "@/components/task-list";
import { listTasks } from "@/lib/tasks";

export const dynamic = "force-dynamic";

export default function HomePage() {
  const tasks = listTasks();
  const done = tasks.filter((task) => task.status === "done").length;

  return (
    <main className="mx-auto flex max-w-2xl flex-col gap-8 px-4 py-12">
      <header className="flex flex-col gap-1">
        <h1 className="text-3xl font-semibold tracking-tight">Standup Board</h1>
        <p className="text-sm text-muted-foreground">
          {tasks.length} tasks today, {done} done.
        </p>
      </header>

      <section aria-labelledby="add-heading" className="rounded-lg border p-4">
        <h2 id="add-heading" className="mb-3 text-lg font-medium">
          Add a task
        </h2>
        <TaskForm />
      </section>

      <section aria-labelledby="tasks-heading">
        <h2 id="tasks-heading" className="mb-3 text-lg font-medium">
          Tasks
        </h2>
        <TaskList initialTasks={tasks} />
      </section>
    </main>
  );
}
