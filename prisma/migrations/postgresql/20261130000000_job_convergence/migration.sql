-- AlterTable
ALTER TABLE "Job" ADD COLUMN "converged" BOOLEAN NOT NULL DEFAULT false;
