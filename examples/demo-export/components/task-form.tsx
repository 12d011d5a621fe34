"use client";

import { useRouter } from "next/navigation";
import { useState, type FormEvent } from "react";

import { Button } from "@/components/ui/button";

export function TaskForm() {
  const router = useRouter();
  const [title, setTitle] = useState("");
  const [owner, setOwner] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [pending, setPending] = useState(false);

  async function handleSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setError(null);

    if (!title.trim()) {
      setError("Please enter a task title.");
      return;
    }

    setPending(true);
    try {
      const response = await fetch("/api/tasks", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ title, owner }),
      });
      if (!response.ok) {
        const data = (await response.json().catch(() => ({}))) as { error?: string };
        setError(data.error ?? "Could not save the task.");
        return;
      }
      setTitle("");
      setOwner("");
      router.refresh();
    } catch {
      setError("Network error. Please try again.");
    } finally {
      setPending(false);
    }
  }

  return (
    <form onSubmit={handleSubmit} className="flex flex-col gap-3 sm:flex-row sm:items-end">
      <label className="flex flex-1 flex-col gap-1 text-sm">
        <span className="font-medium">Task</span>
        <input
          value={title}
          onChange={(event) => setTitle(event.target.value)}
          placeholder="What are you working on?"
          maxLength={140}
          className="h-10 rounded-md border bg-background px-3"
        />
      </label>
      <label className="flex flex-col gap-1 text-sm sm:w-40">
        <span className="font-medium">Owner</span>
        <input
          value={owner}
          onChange={(event) => setOwner(event.target.value)}
          placeholder="Name"
          className="h-10 rounded-md border bg-background px-3"
        />
      </label>
      <Button type="submit" disabled={pending}>
        {pending ? "Adding..." : "Add task"}
      </Button>
      {error ? (
        <p role="alert" className="text-sm text-red-600 sm:basis-full">
          {error}
        </p>
      ) : null}
    </form>
  );
}
